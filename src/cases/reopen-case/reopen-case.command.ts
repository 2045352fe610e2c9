import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn, IsOptional } from 'class-validator';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { UNIT_CODES, type UnitCode } from '../../units/units.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';
import { openCaseOf } from '../projections/open-cases.projection.js';

export class ReopenCaseRequest {
  @ApiProperty({ enum: UNIT_CODES })
  @IsIn(UNIT_CODES)
  unit: UnitCode;

  @ApiPropertyOptional({ description: 'Default today.' })
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;
}

export class ReopenCaseCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: ReopenCaseRequest,
  ) {}
}

@CommandHandler(ReopenCaseCommand)
export class ReopenCaseHandler implements ICommandHandler<ReopenCaseCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly projections: ProjectionEngine,
  ) {}

  execute({ meta, input }: ReopenCaseCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, async (state) => ({
      type: 'ReopenCase',
      actor: meta.actor,
      today: stockholmDate(),
      unit: input.unit,
      effectiveDate: input.effectiveDate,
      openCaseOfPerson:
        state.status === 'not_registered' ? null : await this.projections.read('open_cases', (tx) => openCaseOf(tx, meta.municipality, state.pseudonym)),
    }));
  }
}
