import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { stockholmDate } from '../../shared/time/calendar.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

/**
 * Several benefit months of one case in one append: exactly the events of one
 * RecordBenefitMonthCommand per month (months already recorded add nothing), all or nothing.
 * For register history and imports, where a case gets tens of months at once: one stream read
 * and one transaction instead of one per month.
 */
export class RecordBenefitMonthsCommand {
  constructor(readonly meta: CommandMeta & { caseId: string; months: string[] }) {}
}

@CommandHandler(RecordBenefitMonthsCommand)
export class RecordBenefitMonthsHandler implements ICommandHandler<RecordBenefitMonthsCommand, CaseCommandOutcome> {
  constructor(private readonly cases: CaseRepository) {}
  execute({ meta }: RecordBenefitMonthsCommand): Promise<CaseCommandOutcome> {
    const today = stockholmDate();
    return this.cases.execute(meta, meta.caseId, () => meta.months.map((month) => ({ type: 'RecordBenefitMonth' as const, actor: meta.actor, today, month })));
  }
}
