import { ApiProperty } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsObject, IsString, MaxLength, MinLength } from 'class-validator';
import { PersonVault } from '../../shared/privacy/vault.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { MunicipalityStreams } from '../../rounds/municipality-streams.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class CorrectAssessmentRequest {
  @ApiProperty({ description: 'Only the questions being corrected.', example: { mentalHealth: 'some_problems' } })
  @IsObject()
  answers: Record<string, unknown>;

  @ApiProperty({ description: 'Why (kept encrypted with the person\'s key).', example: 'Läkarintyg inkom efter registreringsdagen' })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reason: string;
}

export class CorrectAssessmentCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string; roundId: string },
    readonly input: CorrectAssessmentRequest,
  ) {}
}

@CommandHandler(CorrectAssessmentCommand)
export class CorrectAssessmentHandler implements ICommandHandler<CorrectAssessmentCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly municipality: MunicipalityStreams,
    private readonly vault: PersonVault,
  ) {}

  async execute({ meta, input }: CorrectAssessmentCommand): Promise<CaseCommandOutcome> {
    const round = await this.municipality.roundInfo(meta.municipality, meta.roundId);
    return this.cases.execute(meta, meta.caseId, async (state) => ({
      type: 'CorrectAssessment',
      actor: meta.actor,
      today: stockholmDate(),
      roundId: meta.roundId,
      round,
      answers: input.answers,
      reasonCiphertext: state.status === 'not_registered' ? '' : await this.vault.encryptFor(meta.municipality, state.pseudonym, input.reason),
    }));
  }
}
