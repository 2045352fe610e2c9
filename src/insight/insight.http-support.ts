import { createHmac } from 'node:crypto';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { Principal } from '../shared/auth/principal.js';
import { parseMinPosition } from '../shared/http/conditional.js';
import { Problem } from '../shared/http/problem.js';
import type { RoundRow } from './snapshot/round-snapshot.projection.js';
import { parseKnownAt, type KnownAt, type SnapshotFrame } from './snapshot/snapshot-source.js';

/**
 * Shared by the insight endpoints: query parameters, who sees exact counts, and the caseworker
 * pseudonym used wherever a caseworker appears in aggregates or exports.
 */

export const KNOWN_AT_DOC =
  '`close` (default for a closed round): the frozen snapshot, as known when the round was closed. `now` (default for an open round): recomputed with every later correction. ' +
  'A timestamp with offset (e.g. 2026-05-01T12:00:00+02:00): recomputed from what had been recorded by then.';

export class FreshQuery {
  @ApiPropertyOptional({ description: 'Wait (up to 5 s, then 503) until the read side has processed this global position (from X-Event-Position).' })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  minPosition?: string;
}

export class KnownAtQuery extends FreshQuery {
  @ApiPropertyOptional({ description: KNOWN_AT_DOC, example: 'close' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  knownAt?: string;
}

export class SnapshotQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: '1–500, default 50' })
  @IsOptional()
  @Matches(/^\d{1,3}$/, { message: 'limit must be an integer from 1 to 500' })
  limit?: string;

  @ApiPropertyOptional({ description: 'Opaque, from nextCursor (it keeps the view of the first page).' })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;

  @ApiPropertyOptional({ enum: ['open', 'closed', 'all'], description: 'Which cases: open on the reference date (the round, default), closed by then, or all registered by then.' })
  @IsOptional()
  @Matches(/^(open|closed|all)$/, { message: 'status must be open, closed or all' })
  status?: string;
}

export class StatisticsQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: 'Breakdowns, comma-separated: gender, unit, priority, bornAbroad, ageGroup, hasChildren.', example: 'gender,unit' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  by?: string;
}

export class CompareQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: 'The earlier round (id). Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  from?: string;

  @ApiPropertyOptional({ description: 'The later round (id). Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  to?: string;
}

export class FlowQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: 'The first round (id). Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  fromRound?: string;

  @ApiPropertyOptional({ description: 'The second round (id), with a later reference date. Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  toRound?: string;
}

export class JourneysQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: 'Two or more round ids, comma-separated (ordered by reference date). Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  rounds?: string;
}

export class RoundReportQuery extends KnownAtQuery {
  @ApiPropertyOptional({ description: 'The round (id). Required.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  roundId?: string;
}

export class ConsistencyQuery extends RoundReportQuery {
  @ApiPropertyOptional({ description: 'Single-choice questions to test besides the priority, comma-separated. Default: every single-choice question.' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  questions?: string;
}

export class DurationQuery extends FreshQuery {
  @ApiPropertyOptional({ description: 'Base year Y (required).', example: '2025' })
  @IsOptional()
  @IsString()
  @MaxLength(10)
  year?: string;
}

export function required(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw Problem.badRequest(`${name} is required.`, [{ path: name, message: 'is required' }]);
  return value.trim();
}

export { parseMinPosition };

/** Exact counts for roles that may read individual data; small cells hidden for everyone else (API.md). */
export function protectFor(p: Principal): boolean {
  return !p.roles.includes('caseworker');
}

export function knownAtOf(value: string | undefined): KnownAt | undefined {
  return parseKnownAt(value);
}

export function roundSummary(r: RoundRow) {
  return {
    id: r.roundId,
    label: r.label,
    referenceDate: r.referenceDate,
    questionnaireVersion: r.questionnaireVersion,
    status: r.closedPosition === null ? ('open' as const) : ('closed' as const),
    closedAt: r.closedAt ? r.closedAt.toISOString() : null,
  };
}

export function frameSummary(f: SnapshotFrame) {
  return { round: roundSummary(f.round), knownAt: f.knownAt, frozen: f.frozen, position: f.position };
}

/**
 * A caseworker as shown in aggregates and exports: keyed HMAC of (municipality, user id), with
 * the same server key as person pseudonyms but another purpose string, so it is stable and
 * cannot be reversed or linked to a person pseudonym.
 */
export function staffPseudonymizer(key: Buffer | undefined, municipality: string): (userId: string) => string {
  if (!key) throw new Error('PSEUDONYM_KEY is required for staff pseudonyms');
  const cache = new Map<string, string>();
  return (userId) => {
    let p = cache.get(userId);
    if (!p) {
      p = `staff-${createHmac('sha256', key).update(`vagen:staff:v1\u0000${municipality}\u0000${userId}`).digest('hex').slice(0, 16)}`;
      cache.set(userId, p);
    }
    return p;
  };
}

/** `?a=x,y` → ['x', 'y'] without blanks and repeats. */
export function list(value: string | undefined): string[] {
  return [...new Set((value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))];
}
