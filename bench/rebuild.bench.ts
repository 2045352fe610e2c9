/**
 * Projection rebuild benchmark (`npm run bench:rebuild`; not a test).
 *
 * 1,000,000 case events (11 types, ~40,000 cases in three municipalities, each case's events
 * spread over the whole log) are bulk-imported, then:
 *   baseline  a plain keyset scan of the same rows (pages of 5,000, node-postgres JSON.parse of
 *             data and metadata) — what reading the log costs at the very least
 *   build     the per-case current state read model (bench/case-state.projection.ts) built from
 *             scratch by the engine, until its checkpoint is at the head
 *   rebuild   the same, as a rebuild beside the live build, until it has switched over
 *   checks    every event applied exactly once: the build's processed count, the sum of per-case
 *             event counts, and every case's applied version against its stream's version
 *   lag       catch-up lag from append (committed) to visible in the read model, under a steady
 *             write load, p50/p99
 * The machine is shared and noisy, so the baseline runs in the same run on the same server
 * (before and after; the faster one counts) and the ratio is the figure to compare.
 *
 * Needs DATABASE_URL (a server where it may create and drop a database). Prints a table and
 * writes bench/results/rebuild.json.
 *   BENCH_EVENTS     events in the log (default 1000000)
 *   BENCH_BATCH      engine batch size (default: the engine's default)
 *   BENCH_LAG_RATE   appends per second for the lag figure (default 200)
 *   BENCH_LAG_SECONDS seconds of steady writes (default 10)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Random } from '../src/demo/prng.js';
import { createDataSource, migrate } from '../src/shared/database/database.js';
import type { BulkAppend, NewEvent } from '../src/shared/event-store/event-store.port.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/postgres-event-store.js';
import { DEFAULT_ENGINE_OPTIONS, ProjectionEngine } from '../src/shared/projections/projection-engine.js';
import { caseStateProjection } from './case-state.projection.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? DEFAULT_ENGINE_OPTIONS.batchSize);
const LAG_RATE = Number(process.env.BENCH_LAG_RATE ?? 200);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 10);
const EVENTS_PER_CASE = 25;
const TENANTS = ['2281', '2262', '2280'];
const UNITS = ['forsorjningsstod', 'vuxenstod', 'arbete-och-integration', 'rehabilitering-och-utveckling'];
const QUESTIONS: [string, string[]][] = [
  ['education', ['none', 'compulsory', 'upper_secondary', 'post_secondary', 'unknown']],
  ['previousWork', ['never', 'under_1_year', '1_to_5_years', 'over_5_years', 'unknown']],
  ['physicalHealth', ['no_problems', 'some_problems', 'severe_problems', 'unknown']],
  ['mentalHealth', ['no_problems', 'some_problems', 'severe_problems', 'unknown']],
  ['substanceAbuse', ['never', 'previous', 'active', 'unknown']],
  ['sickCertificate', ['yes', 'no', 'unknown']],
  ['sicknessBenefitApplication', ['not_applied', 'pending', 'granted', 'rejected', 'unknown']],
  ['registeredWithEmploymentService', ['registered', 'deregistered_last_12_months', 'never_registered', 'unknown']],
  ['languageSupportNeeded', ['yes', 'no', 'unknown']],
  ['distanceToLabourMarket', ['close', 'medium', 'far', 'unknown']],
];
const MULTI: [string, string[]][] = [
  ['workObstacles', ['physical_health', 'mental_health', 'substance_abuse', 'language', 'childcare', 'housing']],
  ['currentActivity', ['studies', 'municipal_programme', 'employment_service_programme', 'rehabilitation', 'part_time_work']],
  ['otherBenefits', ['sickness_benefit', 'activity_support', 'housing_allowance', 'maintenance_support']],
  ['otherSupport', ['social_services', 'healthcare', 'psychiatry', 'addiction_care']],
];

interface GenCase {
  stream: string;
  tenant: string;
  unit: string;
  closed: boolean;
  interventions: string[];
  months: number;
}

/** Realistic case histories: registration first, then assessments, priorities, transfers, interventions, benefit months, closures. */
class Generator {
  private readonly rnd = new Random(20_261_123);
  private readonly cases: GenCase[] = [];
  private readonly targetCases = Math.max(1, Math.round(EVENTS / EVENTS_PER_CASE));
  private readonly run = randomUUID().slice(0, 8);

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd.next() * xs.length)]!;
  }

  private meta(): NewEvent['metadata'] {
    return { actor: `user-${this.rnd.int(1, 120)}`, correlationId: randomUUID(), effectiveDate: `2026-0${this.rnd.int(1, 9)}-1${this.rnd.int(0, 9)}` };
  }

  private answers(): Record<string, unknown> {
    const a: Record<string, unknown> = {};
    for (const [k, opts] of QUESTIONS) a[k] = this.pick(opts);
    for (const [k, opts] of MULTI) {
      const r = this.rnd.next();
      a[k] = r < 0.1 ? ['unknown'] : r < 0.25 ? ['none'] : opts.filter(() => this.rnd.next() < 0.3);
      if ((a[k] as string[]).length === 0) a[k] = ['none'];
    }
    return a;
  }

  /** The next `n` events of the log, grouped per stream for one bulk import (order within a stream kept). */
  chunk(n: number): BulkAppend[] {
    const perStream = new Map<string, BulkAppend>();
    for (let i = 0; i < n; i++) {
      const newCase = this.cases.length === 0 || (this.cases.length < this.targetCases && this.rnd.next() < this.targetCases / EVENTS);
      let c: GenCase;
      let e: NewEvent;
      if (newCase) {
        c = { stream: `case-${this.run}-${this.cases.length}`, tenant: this.pick(TENANTS), unit: this.pick(UNITS), closed: false, interventions: [], months: 0 };
        this.cases.push(c);
        e = {
          type: 'CaseRegistered',
          data: {
            caseId: randomUUID(),
            pseudonym: randomUUID().replace(/-/g, ''),
            birthYear: this.rnd.int(1950, 2005),
            gender: this.pick(['female', 'male', 'other', 'unknown']),
            bornAbroad: this.pick(['yes', 'no', 'unknown']),
            childrenInHousehold: this.rnd.next() < 0.1 ? 'unknown' : this.rnd.int(0, 5),
            unit: c.unit,
          },
          metadata: this.meta(),
        };
      } else {
        c = this.pick(this.cases);
        e = this.next(c);
      }
      const b = perStream.get(c.stream) ?? { stream: c.stream, tenant: c.tenant, expectedVersion: 'any' as const, events: [] };
      b.events.push(e);
      perStream.set(c.stream, b);
    }
    return [...perStream.values()];
  }

  private next(c: GenCase): NewEvent {
    const meta = this.meta();
    if (c.closed) {
      if (this.rnd.next() < 0.3) {
        c.closed = false;
        c.unit = this.pick(UNITS);
        return { type: 'CaseReopened', data: { unit: c.unit }, metadata: meta };
      }
      return { type: 'BenefitMonthRecorded', data: { month: `20${this.rnd.int(20, 26)}-0${this.rnd.int(1, 9)}` }, metadata: meta };
    }
    const r = this.rnd.next();
    if (r < 0.4) {
      c.months++;
      return { type: 'BenefitMonthRecorded', data: { month: `20${this.rnd.int(20, 26)}-${String(this.rnd.int(1, 12)).padStart(2, '0')}` }, metadata: meta };
    }
    if (r < 0.42 && c.months > 0) {
      c.months--;
      return { type: 'BenefitMonthWithdrawn', data: { month: `2025-0${this.rnd.int(1, 9)}` }, metadata: meta };
    }
    if (r < 0.54) return { type: 'AssessmentRecorded', data: { roundId: this.pick(['2025-H2', '2026-H1', '2026-H2']), questionnaireVersion: 1, answers: this.answers(), assessedBy: meta.actor }, metadata: meta };
    if (r < 0.58) {
      return {
        type: 'AssessmentCorrected',
        data: { roundId: '2026-H1', answers: { mentalHealth: 'some_problems', education: 'compulsory' }, reasonCiphertext: 'v1.' + randomUUID().repeat(2), correctedBy: meta.actor },
        metadata: meta,
      };
    }
    if (r < 0.7) return { type: 'PrioritySet', data: { priority: this.pick(['high', 'medium', 'low']), roundId: '2026-H1', reasonCiphertext: null }, metadata: meta };
    if (r < 0.76) {
      const to = this.pick(UNITS.filter((u) => u !== c.unit));
      const from = c.unit;
      c.unit = to;
      return { type: 'CaseTransferred', data: { fromUnit: from, toUnit: to, reasonCiphertext: null }, metadata: meta };
    }
    if (r < 0.83) {
      const id = randomUUID();
      c.interventions.push(id);
      return {
        type: 'InterventionStarted',
        data: { interventionId: id, type: this.pick(['language_coach', 'work_practice', 'employer_contact', 'rehabilitation']), provider: this.pick(['municipality', 'employment_service']), startDate: '2026-02-01' },
        metadata: meta,
      };
    }
    if (r < 0.88 && c.interventions.length > 0) {
      return { type: 'InterventionEnded', data: { interventionId: c.interventions.pop(), endDate: '2026-05-01', outcome: this.pick(['completed', 'interrupted', 'unknown']) }, metadata: meta };
    }
    if (r < 0.91) {
      c.closed = true;
      return { type: 'CaseClosed', data: { reason: this.pick(['employment', 'studies', 'other_benefit', 'moved', 'other', 'unknown']), fromUnit: c.unit }, metadata: meta };
    }
    return { type: 'PrioritySet', data: { priority: this.pick(['high', 'medium', 'low']), roundId: null, reasonCiphertext: null }, metadata: meta };
  }

  someCase(): GenCase {
    return this.pick(this.cases);
  }

  nextFor(c: GenCase): NewEvent {
    return this.next(c);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Peak resident memory while `fn` runs, sampled every 50 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRssMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('DATABASE_URL is required (the benchmark creates and drops its own database there)');
  const name = `vagen_bench_rebuild_${Date.now().toString(36)}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const ds = createDataSource(url.toString(), 2);
  await ds.initialize();
  await migrate(ds);
  await ds.destroy();

  const pool = new pg.Pool({ connectionString: url.toString(), max: 12 });
  // pg-pool resolves end() before its sockets are closed; the DROP … WITH (FORCE) at the end
  // can then terminate one, which the pool reports as an error. Nothing is lost by then.
  pool.on('error', () => undefined);
  const store = await PostgresEventStore.create(pool);
  let engine: ProjectionEngine | undefined;
  try {
    const version = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
    console.log(`Projection rebuild benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`);
    console.log(`${version}`);
    console.log(`${EVENTS.toLocaleString('en')} events, engine batches of ${BATCH}\n`);

    // ---- the log
    const gen = new Generator();
    let t = performance.now();
    for (let written = 0; written < EVENTS; ) {
      const n = Math.min(20_000, EVENTS - written);
      await store.appendBulk(gen.chunk(n));
      written += n;
      process.stdout.write(`\r  importing the log: ${written.toLocaleString('en')} events`);
    }
    const importSeconds = (performance.now() - t) / 1000;
    await pool.query('VACUUM ANALYZE events, event_chunks, event_streams');
    // The baseline's rows: the same events as plain rows, one each (the store keeps an import's
    // events in chunks, several to a row: migration 1764000690000-event-chunks.ts).
    await pool.query('CREATE TABLE bench_rows AS SELECT * FROM event_log');
    await pool.query('ALTER TABLE bench_rows ADD PRIMARY KEY (position)');
    await pool.query('VACUUM ANALYZE bench_rows');
    const head = await store.headPosition();
    const streams = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM event_streams')).rows[0]!.n);
    const bytes = Number((await pool.query<{ b: string }>(`SELECT pg_total_relation_size('events') + pg_total_relation_size('event_chunks') AS b`)).rows[0]!.b);
    console.log(`\r  log: ${EVENTS.toLocaleString('en')} events in ${streams.toLocaleString('en')} case streams, ${Math.round(bytes / 2 ** 20)} MB, imported in ${importSeconds.toFixed(1)} s`);

    // ---- baseline: keyset scan + JSON.parse of the very same rows
    const baseline = async () => {
      const start = performance.now();
      let last = 0;
      let n = 0;
      for (;;) {
        // node-postgres turns jsonb columns into objects with JSON.parse.
        const res = await pool.query<unknown[]>({
          name: 'bench_baseline_scan',
          text: 'SELECT position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata FROM bench_rows WHERE position > $1 ORDER BY position LIMIT 5000',
          values: [last],
          rowMode: 'array',
        });
        if (res.rows.length === 0) break;
        n += res.rows.length;
        last = Number(res.rows[res.rows.length - 1]![0]);
      }
      const seconds = (performance.now() - start) / 1000;
      return { rows: n, seconds, perSecond: n / seconds };
    };
    await baseline(); // warm the cache: both sides read from memory
    const base1 = await baseline();
    console.log(`  baseline keyset scan + JSON.parse: ${Math.round(base1.perSecond).toLocaleString('en')} rows/s (${base1.seconds.toFixed(2)} s)`);

    // ---- build from scratch
    const projection = caseStateProjection();
    engine = new ProjectionEngine(pool, store, { batchSize: BATCH, reconcileMs: 60_000, metricsRefreshMs: 60_000 }, undefined, {
      log: () => undefined,
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
    });
    await engine.register(projection);
    t = performance.now();
    const build = await withPeakRss(async () => {
      await engine!.start();
      await engine!.waitFor(projection.name, head, 3_600_000);
    });
    const buildSeconds = (performance.now() - t) / 1000;
    console.log(`  build from scratch: ${Math.round(EVENTS / buildSeconds).toLocaleString('en')} events/s (${buildSeconds.toFixed(2)} s), peak RSS ${build.peakRssMb} MB`);
    const check = async (schema: string) => {
      const row = (await pool.query<{ events_processed: string; position: string }>('SELECT events_processed, position FROM projections WHERE schema_name = $1', [schema])).rows[0]!;
      const sums = (
        await pool.query<{ cases: string; events: string; versions_ok: string }>(
          `SELECT count(*) AS cases, sum(c.events) AS events, count(*) FILTER (WHERE c.version = s.version) AS versions_ok
             FROM "${schema}".case_state c JOIN event_streams s ON s.stream_id = c.case_id`,
        )
      ).rows[0]!;
      const result = {
        processed: Number(row.events_processed),
        position: Number(row.position),
        applied: Number(sums.events),
        cases: Number(sums.cases),
        versionsOk: Number(sums.versions_ok),
      };
      const ok = result.processed === EVENTS && result.applied === EVENTS && result.cases === streams && result.versionsOk === streams && result.position === head;
      return { ...result, ok };
    };
    const buildCheck = await check('proj_case_state_bench_v1');
    console.log(`  exactly once: processed ${buildCheck.processed}, applied ${buildCheck.applied}, cases ${buildCheck.cases}/${streams} at their stream version: ${buildCheck.ok ? 'OK' : 'FAILED'}`);

    // ---- rebuild beside the live build
    t = performance.now();
    const rebuild = await withPeakRss(async () => {
      const b = await engine!.rebuild(projection.name);
      for (;;) {
        const live = (await pool.query<{ schema_name: string }>(`SELECT schema_name FROM projections WHERE name = $1 AND state = 'live'`, [projection.name])).rows[0];
        if (live?.schema_name === b.schema) return b.schema;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const rebuildSeconds = (performance.now() - t) / 1000;
    console.log(`  rebuild beside the live build, until switched: ${Math.round(EVENTS / rebuildSeconds).toLocaleString('en')} events/s (${rebuildSeconds.toFixed(2)} s), peak RSS ${rebuild.peakRssMb} MB`);
    const rebuildCheck = await check(rebuild.result);
    console.log(`  exactly once: processed ${rebuildCheck.processed}, applied ${rebuildCheck.applied}, cases ${rebuildCheck.cases}/${streams}: ${rebuildCheck.ok ? 'OK' : 'FAILED'}`);

    const base2 = await baseline();
    const baselineBest = Math.max(base1.perSecond, base2.perSecond);
    console.log(`  baseline again: ${Math.round(base2.perSecond).toLocaleString('en')} rows/s`);

    // ---- catch-up lag under a steady write load
    const lags: number[] = [];
    const appendMs: number[] = [];
    const writers = 4;
    const interval = (1000 * writers) / LAG_RATE;
    const deadline = performance.now() + LAG_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        let next = performance.now() + (w * interval) / writers;
        while (next < deadline) {
          await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
          next += interval;
          const c = gen.someCase();
          const events = Array.from({ length: 1 + (lags.length % 3) }, () => gen.nextFor(c));
          const started = performance.now();
          const r = await store.append(c.stream, events, { expectedVersion: 'any', tenant: c.tenant });
          const committed = performance.now();
          await engine!.waitFor(projection.name, r.lastPosition, 30_000);
          appendMs.push(committed - started);
          lags.push(performance.now() - committed);
        }
      }),
    );
    lags.sort((a, b) => a - b);
    appendMs.sort((a, b) => a - b);
    const lag = { samples: lags.length, p50Ms: percentile(lags, 50), p99Ms: percentile(lags, 99), maxMs: lags[lags.length - 1]! };
    console.log(
      `  catch-up lag at ${LAG_RATE} appends/s for ${LAG_SECONDS} s (${lags.length} appends): p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms, max ${lag.maxMs.toFixed(1)} ms` +
        ` (append itself: p50 ${percentile(appendMs, 50).toFixed(1)} ms)`,
    );

    const ratioBuild = EVENTS / buildSeconds / baselineBest;
    const ratioRebuild = EVENTS / rebuildSeconds / baselineBest;
    const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    console.log('\n| figure | value |');
    console.log('|---|---|');
    console.log(`| baseline: keyset scan + JSON.parse | ${Math.round(baselineBest).toLocaleString('en')} rows/s |`);
    console.log(`| build from scratch | ${Math.round(EVENTS / buildSeconds).toLocaleString('en')} events/s = ${ratioBuild.toFixed(2)}× baseline (target ≥ 0.25×) ${ratioBuild >= 0.25 ? '✓' : '✗'} |`);
    console.log(`| rebuild beside live, until switched | ${Math.round(EVENTS / rebuildSeconds).toLocaleString('en')} events/s = ${ratioRebuild.toFixed(2)}× baseline ${ratioRebuild >= 0.25 ? '✓' : '✗'} |`);
    console.log(`| peak RSS during build / rebuild | ${build.peakRssMb} MB / ${rebuild.peakRssMb} MB (whole run incl. generating the log: ${maxRssMb} MB) |`);
    console.log(`| every event applied exactly once | ${buildCheck.ok && rebuildCheck.ok ? 'yes' : 'NO'} (${buildCheck.applied.toLocaleString('en')} / ${EVENTS.toLocaleString('en')}) |`);
    console.log(`| catch-up lag, ${LAG_RATE} appends/s | p50 ${lag.p50Ms.toFixed(1)} ms, p99 ${lag.p99Ms.toFixed(1)} ms |`);

    mkdirSync(path.join('bench', 'results'), { recursive: true });
    writeFileSync(
      path.join('bench', 'results', 'rebuild.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, postgres: version, loadavg: os.loadavg() },
          events: EVENTS,
          cases: streams,
          batchSize: BATCH,
          baseline: { first: base1, second: base2, bestPerSecond: baselineBest },
          build: { seconds: buildSeconds, perSecond: EVENTS / buildSeconds, ratio: ratioBuild, peakRssMb: build.peakRssMb, check: buildCheck },
          rebuild: { seconds: rebuildSeconds, perSecond: EVENTS / rebuildSeconds, ratio: ratioRebuild, peakRssMb: rebuild.peakRssMb, check: rebuildCheck },
          lag: { appendsPerSecond: LAG_RATE, seconds: LAG_SECONDS, ...lag },
          maxRssMb,
        },
        null,
        2,
      ) + '\n',
    );
    if (!buildCheck.ok || !rebuildCheck.ok) process.exitCode = 1;
  } finally {
    for (const [what, step] of [
      ['engine', () => engine?.stop()],
      ['store', () => store.close()],
      ['pool', () => pool.end()],
    ] as const) {
      await Promise.resolve(step()).catch((e: unknown) => console.error(`closing the ${what}:`, e));
    }
    if (!process.env.BENCH_KEEP_DB) await adminClient.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await adminClient.end();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
