/**
 * Event store benchmark (`npm run bench:store`; not a test). The machine is shared and noisy, so
 * every Vägen figure is measured right next to a raw-PostgreSQL baseline, on the same server, in
 * paired rounds (baseline, then Vägen, then the next pair), and each ratio is the median of the
 * per-round ratios. Baselines, through plain `pg`:
 *   (a) 16 connections, each looping BEGIN; INSERT one ~300-byte row; COMMIT
 *   (b) COPY … FROM STDIN of 200k such rows
 *   (c) keyset scan of those rows (JSON parsed by node-postgres), pages of 5,000
 * and a reference beside (b), with no target: (b′) the same COPY of the import's rows (every
 * column, as text) into a table shaped and indexed like the events table. bulk / (b′) is what the
 * store adds on top of PostgreSQL's own cost of that table; (b′) / (b) is the cost of its four
 * indexes, kept up row by row.
 * Beside the issue's figures: 16 writers appending with an inline view (a transaction each, as
 * every case command does), which shows how long appends hold the append lock.
 * Needs DATABASE_URL (a server where it may create and drop a database). Prints a table and
 * writes bench/results/event-store.json.
 *   BENCH_SECONDS  seconds per throughput figure (default 4)
 *   BENCH_ROUNDS   paired rounds (default 3)
 *   BENCH_ROWS     rows for (b)/(c) and events for the bulk import (default 200000)
 *   BENCH_KEEP_DB  keep the benchmark database
 *   BENCH_MAX_IN_FLIGHT  the store's maxInFlight (default: the store's own, 2)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDataSource, migrate } from '../src/shared/database/database.js';
import { copyIn, copyText } from '../src/shared/event-store/postgres/copy-in.js';
import { uuidv7 } from '../src/shared/event-store/event-store.validation.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/postgres-event-store.js';
import type { NewEvent } from '../src/shared/event-store/event-store.port.js';
import { Metrics } from '../src/shared/observability/metrics.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const WRITERS = 16;
const POOL_SIZE = 20;
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT ? Number(process.env.BENCH_MAX_IN_FLIGHT) : undefined;

const answers = { education: 'upper_secondary', previousWork: '1_to_5_years', mentalHealth: 'some_problems', substanceAbuse: 'never', workObstacles: ['mental_health', 'language'] };
const metadata = { actor: 'bench-user-0001', correlationId: '6f1c2a9e-8d7b-4c3e-9f2a-1b0c3d4e5f60' };
// ~300 bytes as stored: an assessment-like event body plus its metadata…
const eventBody = (i: number): NewEvent => ({ type: 'AssessmentRecorded', data: { roundId: '2026-H1', answers, n: i }, metadata });
// …and the same document as the one JSON column of a plain table.
const rowPayload = (i: number) => JSON.stringify({ roundId: '2026-H1', answers, n: i, metadata });

interface Figure {
  perSecond: number;
  count: number;
  seconds: number;
  p50Ms?: number;
  p99Ms?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** `workers` loops for SECONDS; each call of `op` is one operation, timed for latency. */
async function loop(workers: number, op: (worker: number, i: number) => Promise<unknown>, unitsPerOp = 1): Promise<Figure> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
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

async function timed(count: () => Promise<number>): Promise<Figure> {
  const t = performance.now();
  const n = await count();
  const seconds = (performance.now() - t) / 1000;
  return { perSecond: n / seconds, count: n, seconds };
}

/** The median round of a figure (by throughput), with every round kept for the JSON. */
function summarise(rounds: Figure[]): Figure & { rounds: number[] } {
  const sorted = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], perSecond: median(rounds.map((r) => r.perSecond)), rounds: rounds.map((r) => Math.round(r.perSecond)) };
}

function show(label: string, f: Figure): void {
  console.log(`  ${label}: ${f.perSecond.toFixed(0)}/s${f.p99Ms !== undefined ? `  p50 ${f.p50Ms!.toFixed(2)} ms  p99 ${f.p99Ms.toFixed(2)} ms` : ''}`);
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

  const pool = new pg.Pool({ connectionString: url.toString(), max: POOL_SIZE });
  pool.on('error', () => undefined); // idle connections ended by the final DROP DATABASE
  const store = await PostgresEventStore.create(pool, new Metrics(false), { maxInFlight: MAX_IN_FLIGHT });
  const raw: Record<string, Figure[]> = {};
  const add = (key: string, label: string, f: Figure) => {
    (raw[key] ??= []).push(f);
    show(label, f);
  };
  /** A COPY … FROM STDIN on a connection of its own, given back once the COPY has finished. */
  const copyOnOwnConnection = async (sql: string, lines: Iterable<string>): Promise<number> => {
    const c = await pool.connect();
    try {
      return await copyIn(c, sql, lines);
    } finally {
      c.release();
    }
  };
  try {
    const settings = await pool.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN
        ('shared_buffers','synchronous_commit','fsync','wal_sync_method','wal_level','max_wal_size','commit_delay','checkpoint_timeout','full_page_writes','wal_compression','max_connections','work_mem')`,
    );
    const version = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
    console.log(`Event store benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`${version}`);
    console.log(`${ROUNDS} paired rounds, ${SECONDS} s per throughput figure, ${ROWS} rows for bulk/scan\n`);

    // json, like the events' data column: the baselines store and return the text as given.
    await pool.query('CREATE TABLE bench_rows (id bigserial PRIMARY KEY, payload json NOT NULL)');
    await pool.query('CREATE TABLE bench_copy (id bigserial PRIMARY KEY, payload json NOT NULL)');
    // (b′): the events table's columns, keys and indexes, nothing else of the store.
    await pool.query('CREATE TABLE bench_shaped (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)');
    const run = Date.now().toString(36);

    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}`);
      // ---- (a) vs 16 writers, single-event appends (each writer on its own stream, with expected version)
      {
        const clients = await Promise.all(Array.from({ length: WRITERS }, () => pool.connect()));
        try {
          add('baselineA', '(a) raw 16 × (BEGIN; INSERT; COMMIT)', await loop(WRITERS, async (w, i) => {
            const c = clients[w];
            await c.query('BEGIN');
            await c.query({ name: 'bench_insert', text: 'INSERT INTO bench_rows (payload) VALUES ($1)', values: [rowPayload(i)] });
            await c.query('COMMIT');
          }));
        } finally {
          clients.forEach((c) => c.release());
        }
        const versions = new Array<number>(WRITERS).fill(0);
        add('append16', 'Vägen 16 writers, single-event appends', await loop(WRITERS, async (w, i) => {
          const res = await store.append(`a16-${run}-${round}-${w}`, [eventBody(i)], { expectedVersion: versions[w], tenant: '2281' });
          versions[w] = res.nextExpectedVersion;
        }));
      }
      // ---- 16 writers, single-event appends with an inline projection: the path of every case
      // command (a transaction of its own, the view's statement, then the append and its commit)
      {
        await pool.query('CREATE TABLE IF NOT EXISTS bench_inline_view (stream text PRIMARY KEY, version integer NOT NULL)');
        const versions = new Array<number>(WRITERS).fill(0);
        add('appendInline16', 'Vägen 16 writers, single-event appends with an inline view', await loop(WRITERS, async (w, i) => {
          const stream = `inl16-${run}-${round}-${w}`;
          const res = await store.append(stream, [eventBody(i)], {
            expectedVersion: versions[w],
            tenant: '2281',
            inline: async (tx, events) => {
              await tx.query('INSERT INTO bench_inline_view (stream, version) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET version = excluded.version', [stream, events[events.length - 1]!.version]);
            },
          });
          versions[w] = res.nextExpectedVersion;
        }));
      }
      // ---- 1 writer, and 10-event batches
      {
        let version = 0;
        add('append1', 'Vägen 1 writer, single-event appends', await loop(1, async (_w, i) => {
          version = (await store.append(`a1-${run}-${round}`, [eventBody(i)], { expectedVersion: version, tenant: '2281' })).nextExpectedVersion;
        }));
        version = 0;
        add('append10', 'Vägen 1 writer, 10-event appends (events/s)', await loop(1, async (_w, i) => {
          version = (await store.append(`a10-${run}-${round}`, Array.from({ length: 10 }, (_, k) => eventBody(i * 10 + k)), { expectedVersion: version, tenant: '2281' })).nextExpectedVersion;
        }, 10));
        const versions = new Array<number>(WRITERS).fill(0);
        add('append10x16', 'Vägen 16 writers, 10-event appends (events/s)', await loop(WRITERS, async (w, i) => {
          const res = await store.append(`a10x16-${run}-${round}-${w}`, Array.from({ length: 10 }, (_, k) => eventBody(i * 10 + k)), { expectedVersion: versions[w], tenant: '2281' });
          versions[w] = res.nextExpectedVersion;
        }, 10));
      }
      // ---- (b) COPY of ROWS rows vs bulk import of ROWS events (20 per stream). Neither table is
      // emptied between rounds: both grow alike.
      const copyFrom = Number((await pool.query<{ m: string }>('SELECT coalesce(max(id), 0) AS m FROM bench_copy')).rows[0].m);
      add('baselineB', `(b) raw COPY of ${ROWS} rows`, await timed(() => {
        function* lines() {
          for (let i = 0; i < ROWS; i++) yield `${copyText(rowPayload(i))}\n`;
        }
        return copyOnOwnConnection('COPY bench_copy (payload) FROM STDIN', lines());
      }));
      const perStream = 20;
      const shapedFrom = Number((await pool.query<{ m: string }>('SELECT coalesce(max(position), 0) AS m FROM bench_shaped')).rows[0].m);
      add('baselineShaped', `(b′) raw COPY of ${ROWS} rows into a table indexed like events`, await timed(() => {
        const at = new Date().toISOString();
        const meta = JSON.stringify(metadata);
        function* lines() {
          for (let i = 0; i < ROWS; i++) {
            const { data } = eventBody(i);
            const line = [shapedFrom + i + 1, at, (i % perStream) + 1, 1, uuidv7(), `shaped-${run}-${round}-${Math.floor(i / perStream)}`, '2281', 'AssessmentRecorded', JSON.stringify(data), meta];
            yield `${line.map(copyText).join('\t')}\n`;
          }
        }
        return copyOnOwnConnection(`COPY bench_shaped (position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata) FROM STDIN`, lines());
      }));
      const appends = Array.from({ length: Math.ceil(ROWS / perStream) }, (_, s) => ({
        stream: `bulk-${run}-${round}-${s}`,
        tenant: '2281',
        expectedVersion: 'no_stream' as const,
        events: Array.from({ length: perStream }, (_, k) => eventBody(s * perStream + k)),
      }));
      let imported = { firstPosition: 0, lastPosition: 0 };
      add('bulk', `Vägen bulk import of ${ROWS} events`, await timed(async () => {
        const r = await store.appendBulk(appends);
        imported = r;
        return r.events;
      }));

      // ---- (c) keyset scan of the rows just copied vs readAll of the events just imported
      await pool.query('VACUUM ANALYZE bench_copy');
      await pool.query('VACUUM ANALYZE events, event_chunks');
      add('baselineC', '(c) raw keyset scan, pages of 5000', await timed(async () => {
        let last = copyFrom;
        let n = 0;
        for (;;) {
          // node-postgres parses the json column with JSON.parse.
          const res = await pool.query<[string, unknown]>({ name: 'bench_scan', text: 'SELECT id, payload FROM bench_copy WHERE id > $1 ORDER BY id LIMIT 5000', values: [last], rowMode: 'array' });
          if (res.rows.length === 0) return n;
          n += res.rows.length;
          last = Number(res.rows[res.rows.length - 1][0]);
        }
      }));
      add('readAll', 'Vägen readAll, batches of 5000', await timed(async () => {
        let n = 0;
        for await (const batch of store.readAll({ fromPosition: imported.firstPosition - 1, toPosition: imported.lastPosition, batchSize: 5000 })) n += batch.length;
        return n;
      }));

      // ---- readStream of a 20-event stream, nothing else running
      const streams = Array.from({ length: 50 }, (_, s) => `read20-${run}-${round}-${s}`);
      for (const s of streams) await store.append(s, Array.from({ length: 20 }, (_, k) => eventBody(k)), { expectedVersion: 'no_stream', tenant: '2281' });
      add('readStream', 'Vägen readStream of a 20-event stream', await loop(1, (_w, i) => store.readStream(streams[i % streams.length])));
      console.log('');
    }
    await store.close();

    const figures = Object.fromEntries(Object.entries(raw).map(([k, rounds]) => [k, summarise(rounds)]));
    const pairRatio = (v: string, b: string) => median(raw[v].map((f, i) => f.perSecond / raw[b][i].perSecond));
    const ratios = {
      append16VsA: pairRatio('append16', 'baselineA'),
      bulkVsB: pairRatio('bulk', 'baselineB'),
      bulkVsShaped: pairRatio('bulk', 'baselineShaped'),
      shapedVsB: pairRatio('baselineShaped', 'baselineB'),
      readAllVsC: pairRatio('readAll', 'baselineC'),
    };
    const readStreamP99Ms = median(raw.readStream.map((f) => f.p99Ms!));
    const targets = { append16VsA: 1.5, bulkVsB: 0.8, readAllVsC: 0.6, readStreamP99Ms: 5 };

    const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d));
    const rows: [string, string, string][] = [
      ['(a) raw: 16 connections, 1 row per transaction', 'baselineA', 'rows/s'],
      ['Vägen: 16 writers, single-event appends', 'append16', 'appends/s'],
      ['Vägen: 16 writers, single-event appends with an inline view', 'appendInline16', 'appends/s'],
      ['Vägen: 1 writer, single-event appends', 'append1', 'appends/s'],
      ['Vägen: 1 writer, 10-event appends', 'append10', 'events/s'],
      ['Vägen: 16 writers, 10-event appends', 'append10x16', 'events/s'],
      [`(b) raw: COPY of ${ROWS} rows`, 'baselineB', 'rows/s'],
      [`(b′) raw: COPY of ${ROWS} rows into a table indexed like events`, 'baselineShaped', 'rows/s'],
      [`Vägen: bulk import of ${ROWS} events`, 'bulk', 'events/s'],
      ['(c) raw: keyset scan, JSON parsed', 'baselineC', 'rows/s'],
      ['Vägen: readAll', 'readAll', 'events/s'],
      ['Vägen: readStream, 20-event stream', 'readStream', 'reads/s'],
    ];
    console.log('| figure (median of rounds) | per second | unit | p50 ms | p99 ms |\n|---|---:|---|---:|---:|');
    for (const [label, key, unit] of rows) {
      const f = figures[key];
      console.log(`| ${label} | ${fmt(f.perSecond)} | ${unit} | ${fmt(f.p50Ms, 2)} | ${fmt(f.p99Ms, 2)} |`);
    }
    const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
    console.log('\n| ratio (median of paired rounds) | value | target |\n|---|---:|---|');
    console.log(`| 16-writer appends / (a) | ${ratios.append16VsA.toFixed(2)}× | ≥ ${targets.append16VsA}× ${verdict(ratios.append16VsA >= targets.append16VsA)} |`);
    console.log(`| bulk import / (b) | ${ratios.bulkVsB.toFixed(2)}× | ≥ ${targets.bulkVsB}× ${verdict(ratios.bulkVsB >= targets.bulkVsB)} |`);
    console.log(`| bulk import / (b′), reference | ${ratios.bulkVsShaped.toFixed(2)}× | none (what the store adds to its table's own cost) |`);
    console.log(`| (b′) / (b), reference | ${ratios.shapedVsB.toFixed(2)}× | none (the cost of the four indexes) |`);
    console.log(`| readAll / (c) | ${ratios.readAllVsC.toFixed(2)}× | ≥ ${targets.readAllVsC}× ${verdict(ratios.readAllVsC >= targets.readAllVsC)} |`);
    console.log(`| readStream p99 | ${readStreamP99Ms.toFixed(2)} ms | < ${targets.readStreamP99Ms} ms ${verdict(readStreamP99Ms < targets.readStreamP99Ms)} |`);

    const out = path.resolve('bench/results/event-store.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, node: process.version, loadavgAtEnd: os.loadavg() },
          postgres: { version, settings: Object.fromEntries(settings.rows.map((s) => [s.name, s.unit ? `${s.setting} (${s.unit})` : s.setting])) },
          parameters: { secondsPerFigure: SECONDS, rounds: ROUNDS, rows: ROWS, writers: WRITERS, poolSize: POOL_SIZE, maxInFlight: MAX_IN_FLIGHT ?? 'default (2)' },
          figures,
          ratios: { ...ratios, readStreamP99Ms },
          perRoundRatios: {
            append16VsA: raw.append16.map((f, i) => +(f.perSecond / raw.baselineA[i].perSecond).toFixed(2)),
            bulkVsB: raw.bulk.map((f, i) => +(f.perSecond / raw.baselineB[i].perSecond).toFixed(2)),
            bulkVsShaped: raw.bulk.map((f, i) => +(f.perSecond / raw.baselineShaped[i].perSecond).toFixed(2)),
            shapedVsB: raw.baselineShaped.map((f, i) => +(f.perSecond / raw.baselineB[i].perSecond).toFixed(2)),
            readAllVsC: raw.readAll.map((f, i) => +(f.perSecond / raw.baselineC[i].perSecond).toFixed(2)),
          },
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
