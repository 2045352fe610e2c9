import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { setCommandHeaders } from '../../shared/http/conditional.js';
import { Problem } from '../../shared/http/problem.js';
import { IsPersonalIdentityNumber } from '../../shared/privacy/is-personal-identity-number.js';
import { maskPins } from '../../shared/privacy/access-log.js';
import { parsePersonalIdentityNumber } from '../../shared/privacy/personal-identity-number.js';
import { PersonVault } from '../../shared/privacy/vault.js';
import { PersonEraser } from './person-eraser.js';

export class EraseRequest {
  @ApiPropertyOptional({ example: '19850312-2389', description: 'The person to erase (12 digits, hyphen allowed). Used to find them and never stored. Give this or `pseudonym`.' })
  @ValidateIf((o: EraseRequest) => o.pseudonym === undefined)
  @IsPersonalIdentityNumber()
  personalIdentityNumber?: string;

  @ApiPropertyOptional({
    example: 'geul7jcgnhy4to6svavpybhpwa',
    description: 'Instead of the number: the person\'s pseudonym (as in the access log), to erase again in a database restored from a backup older than the erasure.',
  })
  @ValidateIf((o: EraseRequest) => o.personalIdentityNumber === undefined)
  @Matches(/^[a-z2-7]{26}$/, { message: 'pseudonym must be 26 characters a–z, 2–7 (give personalIdentityNumber or pseudonym)' })
  pseudonym?: string;

  @ApiProperty({ example: 'Begäran om radering enligt art. 17 GDPR, beslut 2026-11-20', description: 'Why (1–1000 characters). Kept only as a keyed hash in the PersonErased event.' })
  @IsString()
  @MaxLength(1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class ErasureResponseDoc {
  @ApiProperty({ description: 'False when the person had already been erased (nothing new was written).' }) erased: boolean;
  @ApiProperty({ nullable: true, description: 'Id of the PersonErased event.' }) erasureId: string | null;
  @ApiProperty({ type: [String], description: 'The erased cases; reading any of them now answers 404.' }) caseIds: string[];
}

/**
 * Erasure by crypto-shredding (API.md "Administration"). The key is destroyed when this answers
 * (200, not 202): what is left to follow are async read models, within the usual lag; a read
 * with `?minPosition=<X-Event-Position>` sees them without the person.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/admin/erasures')
@Roles('admin')
export class ErasureController {
  constructor(
    private readonly eraser: PersonEraser,
    private readonly vault: PersonVault,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Erase a person: destroy their key (personnummer and free text unreadable for good), drop them from read models and exports',
    description:
      'Appends PersonErased (pseudonym and case ids only) to the municipality\'s erasures stream and destroys the person\'s data key in the same transaction. ' +
      'Frozen round aggregates keep their numbers (the person\'s frozen rows become anonymous). The access log records who erased, when and which cases; the reason is kept only as a keyed hash. ' +
      'Repeating the request answers 200 with `erased: false`. ' +
      'With `pseudonym` instead of the number, a person can be erased again in a database restored from a backup older than the erasure.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiResponse({ status: 200, type: ErasureResponseDoc, description: 'X-Event-Position: the PersonErased event.' })
  @ApiResponse({ status: 404, description: 'The municipality has no person with this number (or pseudonym).' })
  async erase(@Param('code') code: string, @Body() body: EraseRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (body.personalIdentityNumber !== undefined && body.pseudonym !== undefined) {
      throw Problem.badRequest('Give personalIdentityNumber or pseudonym, not both.', [{ path: 'pseudonym', message: 'not together with personalIdentityNumber' }]);
    }
    let pseudonym = body.pseudonym;
    if (body.personalIdentityNumber !== undefined) {
      const parsed = parsePersonalIdentityNumber(body.personalIdentityNumber);
      if (!parsed.ok) throw new Error('validated by the DTO');
      pseudonym = this.vault.pseudonym(code, parsed.value.normalized);
    }
    const outcome = await this.eraser.erase({
      municipality: code,
      pseudonym: pseudonym!,
      actor: user.userId,
      reason: body.reason,
      basis: 'request',
      correlationId: String(req.id),
      audit: { roles: [...user.roles], endpoint: maskPins(`${req.method} ${req.url}`), requestId: String(req.id) },
    });
    if (outcome.position !== null) setCommandHeaders(reply, { position: outcome.position });
    return { erased: outcome.erased, erasureId: outcome.erasureId, caseIds: outcome.caseIds };
  }
}
