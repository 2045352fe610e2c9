import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { PersonVault } from '../../shared/privacy/vault.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { UNIT_CODES, type UnitCode } from '../../units/units.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';

export class TransferCaseRequest {
  @ApiProperty({ enum: UNIT_CODES })
  @IsIn(UNIT_CODES)
  toUnit: UnitCode;

  @ApiPropertyOptional({ description: 'Default today; may be back-dated.' })
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;

  @ApiPropertyOptional({ description: 'Free text, kept encrypted.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reason?: string;
}

export class TransferCaseCommand {
  constructor(
    readonly meta: CommandMeta & { caseId: string },
    readonly input: TransferCaseRequest,
  ) {}
}

@CommandHandler(TransferCaseCommand)
export class TransferCaseHandler implements ICommandHandler<TransferCaseCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly vault: PersonVault,
  ) {}

  execute({ meta, input }: TransferCaseCommand): Promise<CaseCommandOutcome> {
    return this.cases.execute(meta, meta.caseId, async (state) => ({
      type: 'TransferCase',
      actor: meta.actor,
      today: stockholmDate(),
      toUnit: input.toUnit,
      reasonCiphertext: input.reason && state.status !== 'not_registered' ? await this.vault.encryptFor(meta.municipality, state.pseudonym, input.reason) : null,
      effectiveDate: input.effectiveDate,
    }));
  }
}
