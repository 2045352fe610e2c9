import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { PersonVault } from '../../shared/privacy/vault.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { MunicipalityStreams } from '../../rounds/municipality-streams.js';
import { PRIORITIES, type Priority } from '../case.events.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class SetPriorityRequest {
  @ApiProperty({ enum: PRIORITIES })
  @IsIn(PRIORITIES)
  priority: Priority;

  @ApiPropertyOptional({ description: 'The round this prioritisation belongs to (twice-yearly review).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  roundId?: string;

  @ApiPropertyOptional({ description: 'Free text, kept encrypted.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reason?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;
}

export class SetPriorityCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: SetPriorityRequest,
  ) {}
}

@CommandHandler(SetPriorityCommand)
export class SetPriorityHandler implements ICommandHandler<SetPriorityCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly municipality: MunicipalityStreams,
    private readonly vault: PersonVault,
  ) {}

  async execute({ meta, input }: SetPriorityCommand): Promise<CaseCommandOutcome> {
    const round = input.roundId ? await this.municipality.roundInfo(meta.municipality, input.roundId) : undefined;
    return this.cases.execute(meta, meta.caseId, async (state) => ({
      type: 'SetPriority',
      actor: meta.actor,
      today: stockholmDate(),
      priority: input.priority,
      roundId: input.roundId ?? null,
      round,
      reasonCiphertext: input.reason && state.status !== 'not_registered' ? await this.vault.encryptFor(meta.municipality, state.pseudonym, input.reason) : null,
      effectiveDate: input.effectiveDate,
    }));
  }
}
