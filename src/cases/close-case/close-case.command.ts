import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn, IsOptional } from 'class-validator';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { CLOSURE_REASONS, type ClosureReason } from '../case.events.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class CloseCaseRequest {
  @ApiProperty({ enum: CLOSURE_REASONS, description: 'Where the person left to.' })
  @IsIn(CLOSURE_REASONS)
  reason: ClosureReason;

  @ApiPropertyOptional({ description: 'Default today.' })
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;
}

export class CloseCaseCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: CloseCaseRequest,
  ) {}
}

@CommandHandler(CloseCaseCommand)
export class CloseCaseHandler implements ICommandHandler<CloseCaseCommand, CaseCommandOutcome> {
  constructor(private readonly cases: CaseRepository) {}
  execute({ meta, input }: CloseCaseCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, () => ({ type: 'CloseCase', actor: meta.actor, today: stockholmDate(), reason: input.reason, effectiveDate: input.effectiveDate }));
  }
}
