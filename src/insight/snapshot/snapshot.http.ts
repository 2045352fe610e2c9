import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../../config/config.js';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { APP_CONFIG } from '../../shared/database/database.tokens.js';
import { Problem } from '../../shared/http/problem.js';
import { AccessLog } from '../../shared/privacy/access-log.js';
import { formatPersonalIdentityNumber } from '../../shared/privacy/personal-identity-number.js';
import { isShredded, PersonVault } from '../../shared/privacy/vault.js';
import { compareRounds } from '../aggregates/compare.js';
import { crosstab } from '../aggregates/crosstab.js';
import { BACKGROUND_KEYS, parseFilters, requireDimension } from '../aggregates/dimensions.js';
import { roundStatistics } from '../aggregates/statistics.js';
import {
  CompareQuery,
  frameSummary,
  knownAtOf,
  KNOWN_AT_DOC,
  list,
  parseMinPosition,
  protectFor,
  required,
  SnapshotQuery,
  staffPseudonymizer,
  StatisticsQuery,
} from '../insight.http-support.js';
import type { RoundRow } from './round-snapshot.projection.js';
import type { SnapshotRow } from './snapshot-row.js';
import { type KnownAt, SnapshotSource } from './snapshot-source.js';

/**
 * Reads of a round's snapshot (API.md "Measurement rounds": snapshot, statistics, crosstab,
 * compare). The round's commands (open, close) and its own GET live in rounds.http.ts; Fastify
 * routes the static `compare` before the parametric `{id}`, whatever the registration order.
 */
@ApiTags('rounds')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/rounds')
export class RoundInsightController {
  constructor(
    private readonly source: SnapshotSource,
    private readonly vault: PersonVault,
    private readonly accessLog: AccessLog,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  @Get('compare')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({ summary: 'Change in each share between two rounds', description: 'Items per question and option both rounds have: fromShare, toShare, change (to − from, fractions). Small cells hidden for roles without individual data.' })
  async compare(@Param('code') code: string, @Query() q: CompareQuery, @CurrentUser() user: Principal) {
    const minPosition = parseMinPosition(q.minPosition);
    const [fromId, toId] = [required('from', q.from), required('to', q.to)];
    const [from, to] = (await this.source.roundsById(code, [fromId, toId], minPosition, ['from', 'to'])) as [RoundRow, RoundRow];
    const knownAt = knownAtOf(q.knownAt);
    const [a, b] = await Promise.all([this.source.frame(code, from, knownAt ?? this.source.defaultKnownAt(from)), this.source.frame(code, to, knownAt ?? this.source.defaultKnownAt(to))]);
    const protect = protectFor(user);
    const result = this.source.memo([a, b], `compare|${protect}|${this.config.suppressionMinCell}`, () =>
      compareRounds(
        { rows: a.rows, questionnaire: a.questionnaire, referenceDate: from.referenceDate },
        { rows: b.rows, questionnaire: b.questionnaire, referenceDate: to.referenceDate },
        { protect, minCell: this.config.suppressionMinCell },
      ),
    );
    return { from: frameSummary(a), to: frameSummary(b), ...result, suppression: { applied: protect, minCell: this.config.suppressionMinCell } };
  }

  @Get(':id/snapshot')
  @Roles('caseworker', 'evaluator')
  @ApiOperation({
    summary: 'One row per case in the round',
    description:
      'Caseworkers get individual rows with personnummer (every read is access-logged); evaluators get pseudonymised rows (pseudonym, no case id, caseworkers as staff pseudonyms). ' +
      'Rows are sorted by case (caseworker) or pseudonym (evaluator) and paged with limit/cursor. ' +
      KNOWN_AT_DOC,
  })
  @ApiParam({ name: 'id', description: 'Round id' })
  @ApiResponse({ status: 409, description: 'knownAt=close for a round that is still open.' })
  async snapshot(@Param('code') code: string, @Param('id') id: string, @Query() q: SnapshotQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest) {
    const minPosition = parseMinPosition(q.minPosition);
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (limit < 1 || limit > 500) throw Problem.badRequest('limit must be 1–500.', [{ path: 'limit', message: 'must be an integer from 1 to 500' }]);
    const individual = user.roles.includes('caseworker');
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const round = await this.source.round(code, id, minPosition);
    const view: KnownAt = cursor?.view ?? knownAtOf(q.knownAt) ?? this.source.defaultKnownAt(round);
    const frame = await this.source.frame(code, round, view);
    const status = cursor?.status ?? q.status ?? 'open';
    const staff = staffPseudonymizer(this.config.pseudonymKey, code);
    // Evaluators page by pseudonym: the case id is not theirs to see.
    const keyOf = (r: SnapshotRow) => (individual ? r.caseId : r.pseudonym);
    // Rows of erased persons stay in frozen aggregates, never in row-level answers.
    const rows = frame.rows.filter((r) => !r.erased && (status === 'all' || r.status === status));
    if (!individual) rows.sort((a, b) => (a.pseudonym < b.pseudonym ? -1 : a.pseudonym > b.pseudonym ? 1 : 0));
    const start = cursor ? rows.findIndex((r) => keyOf(r) > cursor.after) : 0;
    const page = start < 0 ? [] : rows.slice(start, start + limit);
    const more = start >= 0 && start + limit < rows.length;
    await this.accessLog.recordMany(
      AccessLog.context(req, user, code),
      page.map((r) => ({ caseId: individual ? r.caseId : null, pseudonym: r.pseudonym })),
    );
    let items: unknown[];
    if (individual) {
      const pins = await this.vault.revealPins(code, page.map((r) => r.pseudonym));
      items = page.map((r) => {
        const pin = pins.get(r.pseudonym);
        const { pseudonym: _p, ...rest } = r;
        return { ...rest, personalIdentityNumber: pin === undefined || isShredded(pin) ? null : formatPersonalIdentityNumber(pin) };
      });
    } else {
      items = page.map(({ caseId: _c, ...r }) => ({ ...r, assessedBy: r.assessedBy === null ? null : staff(r.assessedBy) }));
    }
    const nextView: KnownAt = frame.knownAt === 'close' ? { kind: 'close' } : view.kind === 'at' ? view : { kind: 'position', position: frame.position };
    return {
      ...frameSummary(frame),
      status,
      total: rows.length,
      items,
      nextCursor: more ? encodeCursor({ view: nextView, after: keyOf(page[page.length - 1]!), status }) : null,
    };
  }

  @Get(':id/statistics')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Per question and option: count and share; the unknown share per question; breakdowns; assessed cases by unit, gender and priority',
    description: 'Shares are fractions 0–1 of the assessed open cases (for a multi question: the share that chose the option). Counts 1–4 are null with suppressed: true for roles without individual data, with secondary suppression. ' + KNOWN_AT_DOC,
  })
  async statistics(@Param('code') code: string, @Param('id') id: string, @Query() q: StatisticsQuery, @CurrentUser() user: Principal) {
    const round = await this.source.round(code, id, parseMinPosition(q.minPosition));
    const by = list(q.by);
    const bad = by.filter((k) => !BACKGROUND_KEYS.includes(k));
    if (bad.length > 0) throw Problem.badRequest(`by: ${bad.join(', ')} cannot be a breakdown.`, [{ path: 'by', message: `must be a comma-separated list of ${BACKGROUND_KEYS.join(', ')}` }]);
    const frame = await this.source.frame(code, round, knownAtOf(q.knownAt));
    const o = { by, protect: protectFor(user), minCell: this.config.suppressionMinCell };
    return { ...frameSummary(frame), by, ...this.source.memo([frame], `statistics|${JSON.stringify(o)}`, () => roundStatistics(frame.rows, frame.questionnaire, round.referenceDate, o)) };
  }

  @Get(':id/crosstab')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({
    summary: 'Counts of cases by two keys, with filters',
    description:
      'Keys are question keys or gender, unit, priority, bornAbroad, ageGroup, hasChildren. `filter[<key>]=<value>[,<value>]` keeps cases with any of the values; several filters all apply. ' +
      'With a question key among rows, columns or filters, only assessed cases count. ' +
      KNOWN_AT_DOC,
  })
  @ApiQuery({ name: 'rows', required: true, example: 'mentalHealth' })
  @ApiQuery({ name: 'columns', required: true, example: 'gender' })
  @ApiQuery({ name: 'filter[<key>]', required: false, example: 'deregistered_last_12_months', description: 'e.g. filter[registeredWithEmploymentService]=deregistered_last_12_months' })
  @ApiQuery({ name: 'knownAt', required: false })
  @ApiQuery({ name: 'minPosition', required: false })
  async crosstab(@Param('code') code: string, @Param('id') id: string, @Query() query: Record<string, unknown>, @CurrentUser() user: Principal) {
    const unknown = Object.keys(query).filter((k) => !['rows', 'columns', 'knownAt', 'minPosition'].includes(k) && !k.startsWith('filter['));
    if (unknown.length > 0) throw Problem.badRequest(`Unknown query parameter(s): ${unknown.join(', ')}.`, unknown.map((k) => ({ path: k, message: 'is not a parameter of this endpoint' })));
    const single = (k: string) => {
      const v = query[k];
      if (Array.isArray(v)) throw Problem.badRequest(`${k} may be given once.`, [{ path: k, message: 'may be given once' }]);
      return v === undefined ? undefined : String(v);
    };
    const round = await this.source.round(code, id, parseMinPosition(single('minPosition')));
    const knownAt = knownAtOf(single('knownAt'));
    const questionnaire = await this.source.questionnaire(code, round.questionnaireVersion);
    const errors: { path: string; message: string }[] = [];
    const dims = (['rows', 'columns'] as const).map((k) => {
      try {
        return requireDimension(k, single(k), questionnaire, round.referenceDate);
      } catch (e) {
        if (e instanceof Problem) errors.push(...((e.extra.errors as { path: string; message: string }[]) ?? []));
        return undefined;
      }
    });
    let filter: ReturnType<typeof parseFilters> | undefined;
    try {
      filter = parseFilters(query, questionnaire, round.referenceDate);
    } catch (e) {
      if (e instanceof Problem) errors.push(...((e.extra.errors as { path: string; message: string }[]) ?? []));
      else throw e;
    }
    if (errors.length > 0) throw Problem.badRequest(`${errors.length} parameter(s) are not valid.`, errors);
    const frame = await this.source.frame(code, round, knownAt);
    const o = { protect: protectFor(user), minCell: this.config.suppressionMinCell };
    const question = `crosstab|${dims[0]!.key}|${dims[1]!.key}|${JSON.stringify(filter!.filters)}|${JSON.stringify(o)}`;
    return { ...frameSummary(frame), ...this.source.memo([frame], question, () => crosstab(frame.rows, dims[0]!, dims[1]!, filter!, o)) };
  }
}

interface Cursor {
  view: KnownAt;
  after: string;
  status: string;
}

function encodeCursor(c: Cursor): string {
  const v = c.view.kind === 'at' ? { k: 'at', t: c.view.at.toISOString() } : c.view.kind === 'position' ? { k: 'position', p: c.view.position } : { k: c.view.kind };
  return Buffer.from(JSON.stringify({ v, a: c.after, s: c.status })).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  const bad = () => Problem.badRequest('cursor is not valid.', [{ path: 'cursor', message: 'not a cursor from nextCursor' }]);
  let o: { v?: { k?: string; t?: string; p?: number }; a?: unknown; s?: unknown };
  try {
    o = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof o.a !== 'string' || typeof o.s !== 'string' || !['open', 'closed', 'all'].includes(o.s) || !o.v) throw bad();
  const k = o.v.k;
  let view: KnownAt;
  if (k === 'close' || k === 'now') view = { kind: k };
  else if (k === 'position' && Number.isInteger(o.v.p)) view = { kind: 'position', position: o.v.p! };
  else if (k === 'at' && typeof o.v.t === 'string' && !Number.isNaN(Date.parse(o.v.t))) view = { kind: 'at', at: new Date(o.v.t) };
  else throw bad();
  return { view, after: o.a, status: o.s };
}
