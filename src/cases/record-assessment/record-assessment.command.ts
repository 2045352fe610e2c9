import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { DomainError } from '../../shared/domain/domain-error.js';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { MunicipalityStreams } from '../../rounds/municipality-streams.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class RecordAssessmentRequest {
  @ApiProperty({ description: 'The open round this assessment belongs to.' })
  @IsString()
  @MaxLength(100)
  roundId: string;

  @ApiProperty({
    description: 'Every question of the round\'s questionnaire: a single question takes one option code, a multi question an array; "unknown" (Vet ej) is always allowed and, like "none", stands alone.',
    example: { education: 'upper_secondary', workObstacles: ['mental_health', 'language'], mentalHealth: 'unknown' },
  })
  @IsObject()
  answers: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Default today.' })
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;
}

export class RecordAssessmentCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: RecordAssessmentRequest,
  ) {}
}

@CommandHandler(RecordAssessmentCommand)
export class RecordAssessmentHandler implements ICommandHandler<RecordAssessmentCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly municipality: MunicipalityStreams,
  ) {}

  async execute({ meta, input }: RecordAssessmentCommand): Promise<CaseCommandOutcome> {
    // A remembered open round may have been closed since: the append's round guard then refuses
    // (409 round-closed), and the round is read afresh next time.
    const round = await this.municipality.roundForAssessment(meta.municipality, input.roundId);
    try {
      return await this.cases.execute(meta, meta.caseId, () => ({
        type: 'RecordAssessment',
        actor: meta.actor,
        today: stockholmDate(),
        roundId: input.roundId,
        round,
        answers: input.answers,
        effectiveDate: input.effectiveDate,
      }));
    } catch (e) {
      if (e instanceof DomainError && e.slug === 'round-closed') this.municipality.forgetRound(meta.municipality, input.roundId);
      throw e;
    }
  }
}
