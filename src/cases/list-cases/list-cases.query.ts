import { Injectable } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../shared/auth/principal.js';
import { parseMinPosition } from '../../shared/http/conditional.js';
import { Problem } from '../../shared/http/problem.js';
import { AccessLog } from '../../shared/privacy/access-log.js';
import { formatPersonalIdentityNumber } from '../../shared/privacy/personal-identity-number.js';
import { isShredded, PersonVault } from '../../shared/privacy/vault.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { MunicipalityStreams } from '../../rounds/municipality-streams.js';
import { findRound } from '../../rounds/round.decider.js';
import { UNIT_CODES } from '../../units/units.js';
import { PRIORITIES } from '../case.events.js';

export class CaseListQuery {
  @ApiPropertyOptional({ enum: UNIT_CODES }) @IsOptional() @IsIn(UNIT_CODES) unit?: string;
  @ApiPropertyOptional({ enum: PRIORITIES }) @IsOptional() @IsIn(PRIORITIES) priority?: string;
  @ApiPropertyOptional({ enum: ['open', 'closed'] }) @IsOptional() @IsIn(['open', 'closed']) status?: string;
  @ApiPropertyOptional({ description: 'With `assessed`: cases of this round (open on its reference date) with or without an assessment.' })
  @IsOptional() @IsString() @MaxLength(100) roundId?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptional() @IsIn(['true', 'false']) assessed?: string;
  @ApiPropertyOptional({ description: '1–500, default 50' }) @IsOptional() @Matches(/^\d{1,3}$/, { message: 'limit must be an integer from 1 to 500' }) limit?: string;
  @ApiPropertyOptional({ description: 'Opaque, from nextCursor' }) @IsOptional() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() minPosition?: string;
}

export interface CaseListItem {
  id: string;
  personalIdentityNumber: string;
  birthYear: number;
  gender: string;
  status: string;
  unit: string | null;
  priority: string | null;
  registeredOn: string;
  assessedRounds: string[];
  version: number;
}

/** `GET /cases` from the `case_list` projection; every listed person is access-logged. */
@Injectable()
export class CaseListService {
  constructor(
    private readonly projections: ProjectionEngine,
    private readonly vault: PersonVault,
    private readonly accessLog: AccessLog,
    private readonly municipality: MunicipalityStreams,
  ) {}

  async list(code: string, q: CaseListQuery, user: Principal, req: FastifyRequest): Promise<{ items: CaseListItem[]; nextCursor: string | null }> {
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (limit < 1 || limit > 500) throw Problem.badRequest('limit must be 1–500', [{ path: 'limit', message: 'must be an integer from 1 to 500' }]);
    if (q.assessed !== undefined && q.roundId === undefined) throw Problem.badRequest('assessed needs roundId', [{ path: 'assessed', message: 'needs roundId' }]);
    const minPosition = parseMinPosition(q.minPosition);
    const params: unknown[] = [code];
    const where = ['municipality = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replaceAll('?', `$${params.length}`));
    };
    if (q.unit) add('unit = ?', q.unit);
    if (q.priority) add('priority = ?', q.priority);
    if (q.status) add('status = ?', q.status);
    if (q.roundId) {
      const round = findRound((await this.municipality.rounds(code)).state, q.roundId);
      if (!round) throw Problem.notFound(`Round ${q.roundId} not found.`);
      add('open_periods @> ?::date', round.referenceDate);
      if (q.assessed === 'true') add('? = ANY(assessed_rounds)', q.roundId);
      if (q.assessed === 'false') add('NOT (? = ANY(assessed_rounds))', q.roundId);
    }
    if (q.cursor) {
      if (!/^[0-9a-f-]{36}$/.test(q.cursor)) throw Problem.badRequest('cursor is not valid', [{ path: 'cursor', message: 'not a cursor from nextCursor' }]);
      add('case_id > ?::uuid', q.cursor);
    }
    params.push(limit + 1);
    const rows = await this.projections.read(
      'case_list',
      async (tx) =>
        (
          await tx.query<{ case_id: string; pseudonym: string; status: string; unit: string | null; priority: string | null; registered_on: string; assessed_rounds: string[]; version: number; events: { type: string; data: Record<string, unknown> }[] }>(
            `SELECT case_id, pseudonym, status, unit, priority, to_char(registered_on, 'YYYY-MM-DD') AS registered_on, assessed_rounds, version,
                    (SELECT jsonb_agg(e) FROM jsonb_array_elements(events) e WHERE e->>'type' = 'CaseRegistered') AS events
               FROM case_list WHERE ${where.join(' AND ')} ORDER BY case_id LIMIT $${params.length}`,
            params,
          )
        ).rows,
      minPosition,
    );
    const page = rows.slice(0, limit);
    const pins = await this.vault.revealPins(code, page.map((r) => r.pseudonym));
    const visible = page.filter((r) => {
      const pin = pins.get(r.pseudonym);
      return pin !== undefined && !isShredded(pin);
    });
    await this.accessLog.recordMany(AccessLog.context(req, user, code), visible.map((r) => ({ caseId: r.case_id, pseudonym: r.pseudonym })));
    return {
      items: visible.map((r) => {
        const reg = r.events?.[0]?.data ?? {};
        return {
          id: r.case_id,
          personalIdentityNumber: formatPersonalIdentityNumber(pins.get(r.pseudonym) as string),
          birthYear: Number(reg.birthYear),
          gender: String(reg.gender),
          status: r.status,
          unit: r.unit,
          priority: r.priority,
          registeredOn: r.registered_on,
          assessedRounds: r.assessed_rounds,
          version: r.version,
        };
      }),
      nextCursor: rows.length > limit ? page[page.length - 1]!.case_id : null,
    };
  }
}
