/**
 * Event store benchmark (`npm run bench:store`; not a test). The machine is shared and noisy, so
 * every Vägen figure is measured next to a raw-PostgreSQL baseline in the same run, on the same
 * server, and the ratios are what to compare between runs:
 *   (a) 16 connections, each looping BEGIN; INSERT one ~300-byte row; COMMIT
 *   (b) COPY … FROM STDIN of 200k such rows
 *   (c) keyset scan of those rows with JSON.parse, pages of 5,000
 * Needs DATABASE_URL (a server where it may create and drop a database). Prints a table and
 * writes bench/results/event-store.json.
 *   BENCH_SECONDS  seconds per throughput figure (default 5)
 *   BENCH_ROUNDS   rounds of every figure; the best round counts (default 2)
 *   BENCH_ROWS     rows for (b)/(c) and events for the bulk import (default 200000)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDataSource, migrate } from '../src/shared/database/database.js';
import { copyIn, copyText } from '../src/shared/event-store/postgres/copy-in.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/postgres-event-store.js';
import type { NewEvent } from '../src/shared/event-store/event-store.port.js';
import { Metrics } from '../src/shared/observability/metrics.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const WRITERS = 16;

// ~300 bytes as stored: an assessment-like event body plus its metadata.
function eventBody(i: number): NewEvent {
  return {
    type: 'AssessmentRecorded',
    data: {
      roundId: '2026-H1',
      answers: { education: 'upper_secondary', previousWork: '1_to_5_years', mentalHealth: 'some_problems', substanceAbuse: 'never', workObstacles: ['mental_health', 'language'] },
      n: i,
    },
    metadata: { actor: 'bench-user-0001', correlationId: '6f1c2a9e-8d7b-4c3e-9f2a-1b0c3d4e5f60' },
  };
}
// The same document as one JSON column: what a plain table would hold.
const rowPayload = (i: number) =>
  JSON.stringify({
    roundId: '2026-H1',
    answers: { education: 'upper_secondary', previousWork: '1_to_5_years', mentalHealth: 'some_problems', substanceAbuse: 'never', workObstacles: ['mental_health', 'language'] },
    n: i,
    metadata: { actor: 'bench-user-0001', correlationId: '6f1c2a9e-8d7b-4c3e-9f2a-1b0c3d4e5f60' },
  });

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Throughput {
  perSecond: number;
  count: number;
  seconds: number;
  p50Ms?: number;
  p99Ms?: number;
}

/** Runs `workers` loops for SECONDS; each call of `op` is one operation (timed for latency). */
async function loop(workers: number, op: (worker: number, i: number) => Promise<unknown>, unitsPerOp = 1): Promise<Throughput> {
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t = performance.now();
        await op(w, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: (latencies.length * unitsPerOp) / seconds, count: latencies.length * unitsPerOp, seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function best(label: string, run: () => Promise<Throughput>): Promise<Throughput> {
  let top: Throughput | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    const t = await run();
    process.stdout.write(`  ${label} round ${r + 1}: ${t.perSecond.toFixed(0)}/s${t.p99Ms !== undefined ? ` p50 ${t.p50Ms!.toFixed(2)} ms p99 ${t.p99Ms.toFixed(2)} ms` : ''}\n`);
    if (!top || t.perSecond > top.perSecond) top = t;
  }
  return top!;
}

async function main(): Promise<void> {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('DATABASE_URL is required (the benchmark creates and drops its own database there)');
  const name = `vagen_bench_${Date.now().toString(36)}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const ds = createDataSource(url.toString(), 2);
  await ds.initialize();
  await migrate(ds);
  await ds.destroy();

  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
  const results: Record<string, Throughput> = {};
  try {
    const settings = await pool.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN
        ('shared_buffers','synchronous_commit','fsync','wal_level','max_wal_size','commit_delay','commit_siblings','checkpoint_timeout','full_page_writes','wal_compression','max_connections','effective_io_concurrency','work_mem')`,
    );
    const version = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
    console.log(`Event store benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${version}`);
    console.log(`${SECONDS}s per figure, best of ${ROUNDS} rounds, ${ROWS} rows for bulk/scan\n`);

    // json, like the events' data column: the baselines store and return the text as given.
    await pool.query('CREATE TABLE bench_rows (id bigserial PRIMARY KEY, payload json NOT NULL)');
    await pool.query('CREATE TABLE bench_copy (id bigserial PRIMARY KEY, payload json NOT NULL)');

    // ---- (a) 16 connections, one row per transaction
    results.baselineA = await best('(a) raw 16×(BEGIN; INSERT; COMMIT)', async () => {
      const clients = await Promise.all(Array.from({ length: WRITERS }, () => pool.connect()));
      try {
        return await loop(WRITERS, async (w, i) => {
          const c = clients[w];
          await c.query('BEGIN');
          await c.query({ name: 'bench_insert', text: 'INSERT INTO bench_rows (payload) VALUES ($1)', values: [rowPayload(i)] });
          await c.query('COMMIT');
        });
      } finally {
        clients.forEach((c) => c.release());
      }
    });

    // ---- Vägen appends
    const store = await PostgresEventStore.create(pool, new Metrics(false));
    const run = randomUUID().slice(0, 8);
    let round = 0;
    results.append1 = await best('Vägen 1 writer, single-event appends', async () => {
      const r = round++;
      let version = 0;
      return loop(1, async (_w, i) => {
        const res = await store.append(`bench1-${run}-${r}`, [eventBody(i)], { expectedVersion: version, tenant: '2281' });
        version = res.nextExpectedVersion;
      });
    });
    results.append16 = await best('Vägen 16 writers, single-event appends', async () => {
      const r = round++;
      const versions = new Array<number>(WRITERS).fill(0);
      return loop(WRITERS, async (w, i) => {
        const res = await store.append(`bench16-${run}-${r}-${w}`, [eventBody(i)], { expectedVersion: versions[w], tenant: '2281' });
        versions[w] = res.nextExpectedVersion;
      });
    });
    results.append10 = await best('Vägen 1 writer, 10-event appends (events/s)', async () => {
      const r = round++;
      let version = 0;
      return loop(
        1,
        async (_w, i) => {
          const res = await store.append(`bench10-${run}-${r}`, Array.from({ length: 10 }, (_, k) => eventBody(i * 10 + k)), { expectedVersion: version, tenant: '2281' });
          version = res.nextExpectedVersion;
        },
        10,
      );
    });
    results.append10x16 = await best('Vägen 16 writers, 10-event appends (events/s)', async () => {
      const r = round++;
      const versions = new Array<number>(WRITERS).fill(0);
      return loop(
        WRITERS,
        async (w, i) => {
          const res = await store.append(`bench10x16-${run}-${r}-${w}`, Array.from({ length: 10 }, (_, k) => eventBody(i * 10 + k)), { expectedVersion: versions[w], tenant: '2281' });
          versions[w] = res.nextExpectedVersion;
        },
        10,
      );
    });

    // ---- (b) COPY of ROWS rows vs Vägen bulk import of ROWS events
    results.baselineB = await best(`(b) raw COPY of ${ROWS} rows`, async () => {
      await pool.query('TRUNCATE bench_copy');
      const c = await pool.connect();
      try {
        const t = performance.now();
        function* lines() {
          for (let i = 0; i < ROWS; i++) yield `${copyText(rowPayload(i))}\n`;
        }
        await copyIn(c, 'COPY bench_copy (payload) FROM STDIN', lines());
        const seconds = (performance.now() - t) / 1000;
        return { perSecond: ROWS / seconds, count: ROWS, seconds };
      } finally {
        c.release();
      }
    });
    results.bulk = await best(`Vägen bulk import of ${ROWS} events (20 per stream)`, async () => {
      const r = round++;
      const perStream = 20;
      const appends = Array.from({ length: Math.ceil(ROWS / perStream) }, (_, s) => ({
        stream: `bulk-${run}-${r}-${s}`,
        tenant: '2281',
        expectedVersion: 'no_stream' as const,
        events: Array.from({ length: perStream }, (_, k) => eventBody(s * perStream + k)),
      }));
      const t = performance.now();
      const res = await store.appendBulk(appends);
      const seconds = (performance.now() - t) / 1000;
      return { perSecond: res.events / seconds, count: res.events, seconds };
    });

    // ---- (c) keyset scan vs readAll
    await pool.query('VACUUM ANALYZE bench_copy');
    await pool.query('VACUUM ANALYZE events');
    results.baselineC = await best(`(c) raw keyset scan, pages of 5000, JSON.parse`, async () => {
      const t = performance.now();
      let last = 0;
      let n = 0;
      for (;;) {
        // node-postgres parses the json column with JSON.parse.
        const res = await pool.query<[string, unknown]>({ name: 'bench_scan', text: 'SELECT id, payload FROM bench_copy WHERE id > $1 ORDER BY id LIMIT 5000', values: [last], rowMode: 'array' });
        if (res.rows.length === 0) break;
        n += res.rows.length;
        last = Number(res.rows[res.rows.length - 1][0]);
      }
      const seconds = (performance.now() - t) / 1000;
      return { perSecond: n / seconds, count: n, seconds };
    });
    results.readAll = await best('Vägen readAll, batches of 5000', async () => {
      const t = performance.now();
      let n = 0;
      for await (const batch of store.readAll({ batchSize: 5000 })) n += batch.length;
      const seconds = (performance.now() - t) / 1000;
      return { perSecond: n / seconds, count: n, seconds };
    });

    // ---- readStream of a 20-event stream, nothing else running
    const streams = Array.from({ length: 50 }, (_, s) => `read20-${run}-${s}`);
    for (const s of streams) await store.append(s, Array.from({ length: 20 }, (_, k) => eventBody(k)), { expectedVersion: 'no_stream', tenant: '2281' });
    results.readStream = await best('Vägen readStream of a 20-event stream', async () => loop(1, (_w, i) => store.readStream(streams[i % streams.length])));

    await store.close();

    const ratios = {
      append16VsA: results.append16.perSecond / results.baselineA.perSecond,
      bulkVsB: results.bulk.perSecond / results.baselineB.perSecond,
      readAllVsC: results.readAll.perSecond / results.baselineC.perSecond,
    };
    const targets = { append16VsA: 1.5, bulkVsB: 0.8, readAllVsC: 0.6, readStreamP99Ms: 5 };

    const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d));
    const rows: [string, Throughput, string][] = [
      ['(a) raw: 16 conns, 1 row per transaction', results.baselineA, 'rows/s'],
      ['Vägen: 1 writer, single-event appends', results.append1, 'appends/s'],
      ['Vägen: 16 writers, single-event appends', results.append16, 'appends/s'],
      ['Vägen: 1 writer, 10-event appends', results.append10, 'events/s'],
      ['Vägen: 16 writers, 10-event appends', results.append10x16, 'events/s'],
      [`(b) raw: COPY ${ROWS} rows`, results.baselineB, 'rows/s'],
      ['Vägen: bulk import', results.bulk, 'events/s'],
      ['(c) raw: keyset scan + JSON.parse', results.baselineC, 'rows/s'],
      ['Vägen: readAll', results.readAll, 'events/s'],
      ['Vägen: readStream (20 events)', results.readStream, 'reads/s'],
    ];
    console.log('\n| figure | per second | unit | p50 ms | p99 ms |\n|---|---:|---|---:|---:|');
    for (const [label, t, unit] of rows) console.log(`| ${label} | ${fmt(t.perSecond)} | ${unit} | ${fmt(t.p50Ms, 2)} | ${fmt(t.p99Ms, 2)} |`);
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log('\n| ratio | value | target |\n|---|---:|---|');
    console.log(`| 16-writer appends / (a) | ${ratios.append16VsA.toFixed(2)}× | ≥ ${targets.append16VsA}× ${verdict(ratios.append16VsA >= targets.append16VsA)} |`);
    console.log(`| bulk import / (b) | ${ratios.bulkVsB.toFixed(2)}× | ≥ ${targets.bulkVsB}× ${verdict(ratios.bulkVsB >= targets.bulkVsB)} |`);
    console.log(`| readAll / (c) | ${ratios.readAllVsC.toFixed(2)}× | ≥ ${targets.readAllVsC}× ${verdict(ratios.readAllVsC >= targets.readAllVsC)} |`);
    console.log(`| readStream p99 | ${results.readStream.p99Ms!.toFixed(2)} ms | < ${targets.readStreamP99Ms} ms ${verdict(results.readStream.p99Ms! < targets.readStreamP99Ms)} |`);

    const out = path.resolve('bench/results/event-store.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version, loadavg: os.loadavg() },
          postgres: { version, settings: Object.fromEntries(settings.rows.map((s) => [s.name, s.unit ? `${s.setting} (${s.unit})` : s.setting])) },
          parameters: { secondsPerFigure: SECONDS, rounds: ROUNDS, rows: ROWS, writers: WRITERS, poolSize: 20 },
          figures: results,
          ratios,
          targets,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwritten to ${path.relative(process.cwd(), out)}`);
  } finally {
    await pool.end();
    if (!process.env.BENCH_KEEP_DB) await adminClient.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await adminClient.end();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
