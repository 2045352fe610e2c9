import { Readable } from 'node:stream';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../../config/config.js';
import { QUESTIONNAIRE_V1, type Question, type Questionnaire } from '../../questionnaires/questionnaire.js';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { APP_CONFIG } from '../../shared/database/database.tokens.js';
import { EVENT_STORE, type EventStore, type StoredEvent } from '../../shared/event-store/event-store.port.js';
import { Problem } from '../../shared/http/problem.js';
import { AccessLog } from '../../shared/privacy/access-log.js';
import { KNOWN_AT_DOC, knownAtOf, list, parseMinPosition, staffPseudonymizer } from '../insight.http-support.js';
import { SnapshotSource } from '../snapshot/snapshot-source.js';
import { caseOf, EXPORTED_TYPES, exportEvent } from './event-export.js';
import { MISSING, csvChunks, ndjsonChunks, panelColumns, parquetChunks } from './panel.js';
import { PanelExporter } from './panel-export.js';

export class PanelQuery {
  @ApiPropertyOptional({ description: 'Kommunkoder, comma-separated; each must be in the token (else 404). Default: every municipality of the token.', example: '2281,2262' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  municipalities?: string;

  @ApiPropertyOptional({ description: 'Rounds by id or label (labels are shared across municipalities, e.g. 2026-H1), comma-separated. Default: every round.' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  rounds?: string;

  @ApiPropertyOptional({ description: KNOWN_AT_DOC + ' With knownAt=close and no rounds named, open rounds are left out.' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  knownAt?: string;

  @ApiPropertyOptional({ enum: ['csv', 'ndjson', 'parquet'], description: 'Default csv.' })
  @IsOptional()
  @Matches(/^(csv|ndjson|parquet)$/, { message: 'format must be csv, ndjson or parquet' })
  format?: string;

  @ApiPropertyOptional({ description: 'Wait until the read side has processed this position.' })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  minPosition?: string;
}

export class EventsQuery {
  @ApiPropertyOptional({ description: 'Kommunkoder, comma-separated; each must be in the token (else 404). Default: every municipality of the token.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  municipalities?: string;

  @ApiPropertyOptional({ description: 'Exclusive: events after this global position. Default 0 (the whole log).' })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  fromPosition?: string;
}

export class CodebookQuery {
  @ApiPropertyOptional({ description: 'Include the questions of these municipalities’ questionnaire versions (each must be in the token). Default: version 1.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  municipalities?: string;
}

const FORMATS = {
  csv: { type: 'text/csv; charset=utf-8', ext: 'csv' },
  ndjson: { type: 'application/x-ndjson; charset=utf-8', ext: 'ndjson' },
  parquet: { type: 'application/vnd.apache.parquet', ext: 'parquet' },
} as const;

/** Evaluator exports (API.md): pseudonymised, streamed, only the token's municipalities. */
@ApiTags('exports')
@ApiBearerAuth()
@Controller('api/v1/exports')
export class ExportsController {
  constructor(
    private readonly panel: PanelExporter,
    private readonly source: SnapshotSource,
    private readonly accessLog: AccessLog,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  @Get('panel')
  @Roles('evaluator')
  @ApiOperation({
    summary: 'Panel data: one row per person per round under a stable pseudonym',
    description:
      'Columns: pseudonym, municipality, roundId, round, referenceDate, unit, priority, status, closureReason, gender, birthYear, bornAbroad, childrenInHousehold, one column per question, ' +
      'activeInterventions, benefitMonthsLast12, longTerm, veryLongTerm, firstRound (see GET /exports/codebook). No empty cells: "vet ej" is `unknown`, impossible values have structural codes. ' +
      'A person enters the panel in the first round their case is open and stays after it closed. Streamed (one Parquet row group per page of up to 5,000 rows of a round); no size limit.',
  })
  @ApiProduces('text/csv', 'application/x-ndjson', 'application/vnd.apache.parquet')
  async exportPanel(@Query() q: PanelQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const municipalities = tokenMunicipalities(user, q.municipalities);
    const minPosition = parseMinPosition(q.minPosition);
    if (minPosition !== undefined) await this.source.read(async () => undefined, minPosition);
    const format = (q.format ?? 'csv') as keyof typeof FORMATS;
    const plan = await this.panel.plan(municipalities, list(q.rounds), knownAtOf(q.knownAt));
    for (const m of municipalities) await this.accessLog.record({ ...AccessLog.context(req, user, m), caseId: null, pseudonym: null });
    const pages = this.panel.records(plan);
    const kv = { municipalities: municipalities.join(','), knownAt: q.knownAt ?? 'default', exportedAt: new Date().toISOString() };
    const body = format === 'csv' ? csvChunks(plan.columns, pages) : format === 'ndjson' ? ndjsonChunks(plan.columns, pages) : parquetChunks(plan.columns, pages, kv);
    void reply
      .header('content-type', FORMATS[format].type)
      .header('content-disposition', `attachment; filename="vagen-panel-${municipalities.join('-')}.${FORMATS[format].ext}"`)
      .header('cache-control', 'no-store');
    await reply.send(Readable.from(body, { objectMode: false }));
  }

  @Get('events')
  @Roles('evaluator')
  @ApiOperation({
    summary: 'The event log, pseudonymised, in global order (NDJSON)',
    description:
      'One line per event after fromPosition, up to the head when the request started: { position, municipality, stream, pseudonym, type, schemaVersion, effectiveDate, recordedAt, data }. ' +
      'No personnummer, no free text (every …Ciphertext field dropped), caseworkers as staff pseudonyms. Enough to rebuild any round’s snapshot (src/insight/snapshot/case-facts.ts shows how).',
  })
  @ApiProduces('application/x-ndjson')
  async exportEvents(@Query() q: EventsQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const municipalities = tokenMunicipalities(user, q.municipalities);
    let fromPosition = 0;
    if (q.fromPosition !== undefined) {
      if (!/^\d{1,15}$/.test(q.fromPosition)) throw Problem.badRequest('fromPosition must be a non-negative integer.', [{ path: 'fromPosition', message: 'must be a non-negative integer' }]);
      fromPosition = Number(q.fromPosition);
    }
    for (const m of municipalities) await this.accessLog.record({ ...AccessLog.context(req, user, m), caseId: null, pseudonym: null });
    const head = await this.store.headPosition();
    const staff = new Map(municipalities.map((m) => [m, staffPseudonymizer(this.config.pseudonymKey, m)]));
    const pseudonyms = new Map<string, string>();
    const types = new Set<string>(EXPORTED_TYPES);
    // Erased cases are left out entirely (their PersonErased event stays: evaluators learn to drop the pseudonym).
    const erased = new Set<string>();
    for (const m of municipalities) for (const id of await this.source.erasedCases(m)) erased.add(`${m}|${id}`);
    const self = this;
    async function* lines(): AsyncGenerator<Buffer> {
      if (head <= fromPosition) return;
      for await (const batch of self.store.readAll({ tenants: municipalities, fromPosition, toPosition: head, batchSize: 2000 })) {
        const events = batch.filter((e) => types.has(e.type) && !erased.has(`${e.tenant}|${caseOf(e)}`));
        await self.learnPseudonyms(events, pseudonyms);
        if (events.length === 0) continue;
        yield Buffer.from(events.map((e) => JSON.stringify(exportEvent(e, pseudonyms.get(`${e.tenant}|${caseOf(e)}`) ?? null, staff.get(e.tenant)!))).join('\n') + '\n');
      }
    }
    void reply.header('content-type', 'application/x-ndjson; charset=utf-8').header('cache-control', 'no-store').header('x-head-position', String(head));
    await reply.send(Readable.from(lines(), { objectMode: false }));
  }

  @Get('codebook')
  @ApiOperation({
    summary: 'Every column of the panel export: type, label, option labels; missing codes explained',
    description: '`unknown` ("Vet ej") is marked missing by design (missing: "by_design", missingByDesign: true); not_assessed, not_asked, not_applicable, not_set and never_open are structural.',
  })
  async codebook(@Query() q: CodebookQuery, @CurrentUser() user: Principal) {
    const municipalities = q.municipalities === undefined ? [] : tokenMunicipalities(user, q.municipalities);
    const questionnaires: Questionnaire[] = [QUESTIONNAIRE_V1];
    for (const m of municipalities) {
      const { rows } = await this.source.read((tx) => tx.query<{ version: number; questions: Question[] }>('SELECT version, questions FROM insight_questionnaires WHERE tenant = $1 ORDER BY version DESC', [m]));
      questionnaires.unshift(...rows.map((r) => ({ version: r.version, questions: r.questions })));
    }
    return {
      columns: panelColumns(questionnaires).map(({ question: _q, ...c }) => c),
      missingCodes: Object.entries(MISSING).map(([code, m]) => ({ code, ...m })),
      formats: Object.keys(FORMATS),
      multiValueSeparator: ';',
    };
  }

  /** Case stream → pseudonym, from the read side, falling back to the stream's first event when it lags. */
  private async learnPseudonyms(events: StoredEvent[], known: Map<string, string>): Promise<void> {
    const missing = new Map<string, { tenant: string; caseId: string; stream: string }>();
    for (const e of events) {
      const caseId = caseOf(e);
      if (!caseId) continue;
      const key = `${e.tenant}|${caseId}`;
      if (e.type === 'CaseRegistered' && typeof e.data.pseudonym === 'string') known.set(key, e.data.pseudonym);
      if (!known.has(key)) missing.set(key, { tenant: e.tenant, caseId, stream: e.stream });
    }
    if (missing.size === 0) return;
    // Bounded: a long export forgets the oldest cases (they are looked up again if they reappear).
    if (known.size > 200_000) known.clear();
    const list = [...missing.values()];
    const { rows } = await this.source.read((tx) =>
      tx.query<{ tenant: string; case_id: string; pseudonym: string }>(
        'SELECT c.tenant, c.case_id, c.pseudonym FROM insight_cases c JOIN unnest($1::text[], $2::text[]) AS k(tenant, case_id) USING (tenant, case_id)',
        [list.map((x) => x.tenant), list.map((x) => x.caseId)],
      ),
    );
    for (const r of rows) known.set(`${r.tenant}|${r.case_id}`, r.pseudonym);
    for (const [key, x] of missing) {
      if (known.has(key)) continue;
      const [first] = await this.store.readStream(x.stream, { toVersion: 1 });
      if (first && typeof first.data.pseudonym === 'string') known.set(key, first.data.pseudonym);
    }
  }
}

/** The requested municipalities, each held by the token (404 otherwise: no existence leak); default all of the token's. */
function tokenMunicipalities(user: Principal, raw: string | undefined): string[] {
  const wanted = raw === undefined ? [...user.municipalities] : list(raw);
  if (wanted.length === 0) throw Problem.badRequest('municipalities must name at least one kommunkod.', [{ path: 'municipalities', message: 'must be comma-separated four-digit codes' }]);
  for (const m of wanted) {
    if (!/^\d{4}$/.test(m) || !user.municipalities.includes(m)) throw Problem.notFound(`Municipality ${m} not found.`);
  }
  return wanted.sort();
}
