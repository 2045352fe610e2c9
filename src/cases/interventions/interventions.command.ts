import { ApiProperty } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { INTERVENTION_OUTCOMES, INTERVENTION_PROVIDERS, INTERVENTION_TYPES, type InterventionOutcome, type InterventionProvider, type InterventionType } from '../case.events.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class StartInterventionRequest {
  @ApiProperty({ enum: INTERVENTION_TYPES })
  @IsIn(INTERVENTION_TYPES)
  type: InterventionType;

  @ApiProperty({ enum: INTERVENTION_PROVIDERS })
  @IsIn(INTERVENTION_PROVIDERS)
  provider: InterventionProvider;

  @ApiProperty({ example: '2026-04-01' })
  @IsCalendarDate()
  startDate: string;
}

export class EndInterventionRequest {
  @ApiProperty({ example: '2026-06-30' })
  @IsCalendarDate()
  endDate: string;

  @ApiProperty({ enum: INTERVENTION_OUTCOMES })
  @IsIn(INTERVENTION_OUTCOMES)
  outcome: InterventionOutcome;
}

export class StartInterventionCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: StartInterventionRequest,
  ) {}
}

export class EndInterventionCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string; interventionId: string },
    readonly input: EndInterventionRequest,
  ) {}
}

@CommandHandler(StartInterventionCommand)
export class StartInterventionHandler implements ICommandHandler<StartInterventionCommand, CaseCommandOutcome & { interventionId: string }> {
  constructor(private readonly cases: CaseRepository) {}

  async execute({ meta, input }: StartInterventionCommand): Promise<CaseCommandOutcome & { interventionId: string }> {
    const interventionId = randomUUID();
    const outcome = await this.cases.execute(meta, meta.caseId, () => ({
      type: 'StartIntervention',
      actor: meta.actor,
      today: stockholmDate(),
      interventionId,
      interventionType: input.type,
      provider: input.provider,
      startDate: input.startDate,
    }));
    return { ...outcome, interventionId };
  }
}

@CommandHandler(EndInterventionCommand)
export class EndInterventionHandler implements ICommandHandler<EndInterventionCommand, CaseCommandOutcome> {
  constructor(private readonly cases: CaseRepository) {}

  execute({ meta, input }: EndInterventionCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, () => ({
      type: 'EndIntervention',
      actor: meta.actor,
      today: stockholmDate(),
      interventionId: meta.interventionId,
      endDate: input.endDate,
      outcome: input.outcome,
    }));
  }
}
