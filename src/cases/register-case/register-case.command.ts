import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsIn, IsOptional, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { IsCalendarDate } from '../../shared/http/validators.js';
import { IsPersonalIdentityNumber } from '../../shared/privacy/is-personal-identity-number.js';
import { parsePersonalIdentityNumber } from '../../shared/privacy/personal-identity-number.js';
import { PersonVault } from '../../shared/privacy/vault.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { UNIT_CODES, type UnitCode } from '../../units/units.js';
import { BORN_ABROAD, GENDERS, type BornAbroad, type ChildrenInHousehold, type Gender } from '../case.events.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from '../case.repository.js';
import { openCaseOf } from '../projections/open-cases.projection.js';

@ValidatorConstraint({ name: 'childrenInHousehold' })
class ChildrenConstraint implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return v === 'unknown' || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 30);
  }
  defaultMessage(): string {
    return 'childrenInHousehold must be an integer from 0 to 30, or "unknown"';
  }
}

export class RegisterCaseRequest {
  @ApiProperty({ example: '19850312-2387', description: 'Personnummer or samordningsnummer, 12 digits (YYYYMMDDNNNC), hyphen allowed. Stored only encrypted.' })
  @IsPersonalIdentityNumber()
  personalIdentityNumber: string;

  @ApiProperty({ enum: GENDERS })
  @IsIn(GENDERS)
  gender: Gender;

  @ApiProperty({ enum: BORN_ABROAD })
  @IsIn(BORN_ABROAD)
  bornAbroad: BornAbroad;

  @ApiProperty({ oneOf: [{ type: 'integer', minimum: 0, maximum: 30 }, { type: 'string', enum: ['unknown'] }], example: 2 })
  @Validate(ChildrenConstraint)
  childrenInHousehold: ChildrenInHousehold;

  @ApiProperty({ enum: UNIT_CODES })
  @IsIn(UNIT_CODES)
  unit: UnitCode;

  @ApiPropertyOptional({ example: '2026-03-02', description: 'When the case started (default: today). May be back-dated, not in the future.' })
  @IsOptional()
  @IsCalendarDate()
  effectiveDate?: string;
}

export class RegisterCaseCommand {
  constructor(
    readonly meta: CommandMeta,
    readonly input: RegisterCaseRequest,
  ) {}
}

@CommandHandler(RegisterCaseCommand)
export class RegisterCaseHandler implements ICommandHandler<RegisterCaseCommand, CaseCommandOutcome> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly vault: PersonVault,
    private readonly projections: ProjectionEngine,
  ) {}

  async execute({ meta, input }: RegisterCaseCommand): Promise<CaseCommandOutcome> {
    const today = stockholmDate();
    const parsed = parsePersonalIdentityNumber(input.personalIdentityNumber, today);
    if (!parsed.ok) throw new Error('validated by the DTO');
    const pin = parsed.value.normalized;
    const pseudonym = this.vault.pseudonym(meta.municipality, pin);
    const openCase = await this.projections.read('open_cases', (tx) => openCaseOf(tx, meta.municipality, pseudonym));
    const caseId = randomUUID();
    const command = {
      type: 'RegisterCase' as const,
      actor: meta.actor,
      today,
      caseId,
      pseudonym,
      birthYear: parsed.value.birthYear,
      gender: input.gender,
      bornAbroad: input.bornAbroad,
      childrenInHousehold: input.childrenInHousehold,
      unit: input.unit,
      effectiveDate: input.effectiveDate,
      openCaseOfPerson: openCase,
    };
    // The vault's person row (key + encrypted number) is written in the same transaction as the
    // event, so a rejected registration leaves nothing behind.
    return this.cases.create(meta, caseId, command, async (tx) => {
      await this.vault.registerPerson(meta.municipality, pin, tx);
    });
  }
}
