import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { stockholmDate } from '../../shared/time/calendar.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

/** A month for which assistance was paid (as in the national register). Recording it twice changes nothing. */
export class RecordBenefitMonthCommand {
  constructor(readonly meta: CommandMeta & { caseId: string; month: string }) {}
}

/** A correction: the month was recorded by mistake. */
export class WithdrawBenefitMonthCommand {
  constructor(readonly meta: CommandMeta & { caseId: string; month: string }) {}
}

@CommandHandler(RecordBenefitMonthCommand)
export class RecordBenefitMonthHandler implements ICommandHandler<RecordBenefitMonthCommand, CaseCommandOutcome> {
  constructor(private readonly cases: CaseRepository) {}
  execute({ meta }: RecordBenefitMonthCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, () => ({ type: 'RecordBenefitMonth', actor: meta.actor, today: stockholmDate(), month: meta.month }));
  }
}

@CommandHandler(WithdrawBenefitMonthCommand)
export class WithdrawBenefitMonthHandler implements ICommandHandler<WithdrawBenefitMonthCommand, CaseCommandOutcome> {
  constructor(private readonly cases: CaseRepository) {}
  execute({ meta }: WithdrawBenefitMonthCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, () => ({ type: 'WithdrawBenefitMonth', actor: meta.actor, today: stockholmDate(), month: meta.month }));
  }
}
