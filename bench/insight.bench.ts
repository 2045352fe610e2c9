/**
 * Insight benchmark (`npm run bench:insight`; not a test). A synthetic municipality of 10,000
 * cases and 10 half-yearly rounds (src/insight/testing/synthetic-municipality.ts: benefit months,
 * transfers, interventions, closures, reopenings, assessments, priorities, late corrections) is
 * bulk-appended to a fresh database; the real service runs on it and is measured over HTTP:
 *   - closing a round: POST /rounds/{id}/close → the frozen snapshot readable (the freeze), for
 *     the last rounds, which are held back from the seed and closed here;
 *   - statistics (?by=gender,unit) and flows (consecutive rounds) as a process owner, so with
 *     small-cell protection: p50/p95/max over many requests spread over every round, and the
 *     first (cold) request of each round on its own;
 *   - the panel export (every round) in CSV, NDJSON and Parquet: rows/s and the service's peak RSS,
 *     downloaded by a client in a child process (bench/panel-export.client.ts) so that the
 *     client's work is not counted as the service's; the cold first export of each format on its
 *     own, then the median of BENCH_EXPORT_RUNS.
 * Needs DATABASE_URL (a server where it may create and drop a database). Prints a table and
 * writes bench/results/insight.json.
 *   BENCH_CASES (10000)  BENCH_ROUNDS (10)  BENCH_HELD_BACK (3 rounds closed during the benchmark)
 *   BENCH_REQUESTS (200 per figure)  BENCH_EXPORT_RUNS (3 per format after the cold one)  BENCH_KEEP_DB
 */
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createApp } from '../src/app.factory.js';
import { loadConfig, type ResolvedConfig } from '../src/config/config.js';
import { signDevToken } from '../src/shared/auth/dev-token.js';
import { EVENT_STORE, type EventStore, type NewEvent } from '../src/shared/event-store/event-store.port.js';
import { ProjectionEngine } from '../src/shared/projections/projection-engine.js';
import { ROUND_SNAPSHOTS } from '../src/insight/snapshot/round-snapshot.projection.js';
import { syntheticMunicipality } from '../src/insight/testing/synthetic-municipality.js';

const CASES = Number(process.env.BENCH_CASES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const HELD_BACK = Number(process.env.BENCH_HELD_BACK ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const EXPORT_RUNS = Number(process.env.BENCH_EXPORT_RUNS ?? 3);
const CODE = '2281';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

interface Latency {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  coldMs: number[];
}

interface ExportRun {
  bytes: number;
  newlines: number;
  seconds: number;
  serviceCpuSeconds: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  peakFrom: string;
  clientCpuSeconds: number;
  clientMaxRssMb: number;
}

type ClientReply = { ready: true } | { error: string } | { bytes: number; newlines: number; seconds: number; cpuSeconds: number; maxRssMb: number };

/**
 * The service process's peak RSS from now until end(). On Linux the kernel's high-water mark
 * (VmHWM) is reset and read back, which catches a peak between two samples; elsewhere it is
 * sampled every 10 ms.
 */
function peakRss(): { end(): { peakMb: number; from: string } } {
  const hwm = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    if (hwm() > 0) return { end: () => ({ peakMb: mb(hwm()), from: 'VmHWM' }) };
  } catch {
    // not Linux, or not allowed: sample instead
  }
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  return {
    end: () => {
      clearInterval(sampler);
      return { peakMb: mb(Math.max(peak, process.memoryUsage().rss)), from: 'sampled' };
    },
  };
}

function summary(times: number[], cold: number[]): Latency {
  const s = [...times].sort((a, b) => a - b);
  return { requests: s.length, p50Ms: percentile(s, 50), p95Ms: percentile(s, 95), maxMs: s[s.length - 1]!, coldMs: cold };
}

async function main(): Promise<void> {
  const admin = process.env.DATABASE_URL;
  if (!admin) throw new Error('DATABASE_URL is required (the benchmark creates and drops its own database there)');
  const name = `vagen_bench_insight_${Date.now().toString(36)}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;

  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const config: ResolvedConfig = {
    ...base,
    databaseUrl: url.toString(),
    dbPoolSize: 20,
    auth: { jwtSecret: SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined },
    masterKey: randomBytes(32),
    pseudonymKey: randomBytes(32),
    demo: false,
    rateLimitPerMinute: 1_000_000,
  };
  const running = await createApp(config);
  try {
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = running.app.getHttpServer().address() as { port: number };
    const origin = `http://127.0.0.1:${port}`;
    const store = running.app.get<EventStore>(EVENT_STORE, { strict: false });
    const engine = running.app.get(ProjectionEngine, { strict: false });
    const token = (roles: ('process_owner' | 'evaluator')[], sub: string) => signDevToken(SECRET, { sub, roles, municipalities: [CODE] });
    const po = await token(['process_owner'], 'bench-po');
    const ev = await token(['evaluator'], 'bench-ev');
    const http = async (tokenValue: string, method: string, p: string, body?: unknown) => {
      const r = await fetch(origin + p, { method, headers: { authorization: `Bearer ${tokenValue}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
      return r;
    };

    console.log(`Insight benchmark: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${mb(os.totalmem())} MB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
    console.log(((await running.dataSource.query('SELECT version() AS v')) as { v: string }[])[0]!.v);

    // ---- Seed: every step of the synthetic log in bulk, except the RoundClosed of the last rounds.
    let t = performance.now();
    let log: ReturnType<typeof syntheticMunicipality> | undefined = syntheticMunicipality({ municipality: CODE, cases: CASES, rounds: ROUNDS, seed: 2026, historyYears: 3 });
    const rounds = log.rounds;
    const heldBack = new Set(rounds.slice(-HELD_BACK).map((r) => r.roundId));
    const generatedIn = (performance.now() - t) / 1000;
    t = performance.now();
    let events = 0;
    for (const step of log.steps) {
      const keep = step.filter((s) => !(s.event.type === 'RoundClosed' && heldBack.has(String(s.event.data.roundId))));
      if (keep.length === 0) continue;
      const byStream = new Map<string, NewEvent[]>();
      for (const s of keep) {
        const list = byStream.get(s.stream);
        if (list) list.push(s.event);
        else byStream.set(s.stream, [s.event]);
      }
      await store.appendBulk([...byStream].map(([stream, evs]) => ({ stream, tenant: CODE, expectedVersion: 'any' as const, events: evs })));
      events += keep.length;
    }
    log = undefined;
    const seededIn = (performance.now() - t) / 1000;
    t = performance.now();
    const head = await store.headPosition();
    await engine.waitFor(ROUND_SNAPSHOTS, head, 60 * 60_000);
    const caughtUpIn = (performance.now() - t) / 1000;
    // The other projections (the caseworkers' case list…) catch up too before anything is measured,
    // so that they do not compete for the two cores during the measurements.
    const others = engine.projections().filter((p) => p.kind === 'async' && p.name !== ROUND_SNAPSHOTS).map((p) => p.name);
    await engine.waitFor(others, head, 60 * 60_000);
    const allCaughtUpIn = (performance.now() - t) / 1000;
    console.log(`seed: ${CASES} cases, ${ROUNDS} rounds, ${events} events (generated in ${generatedIn.toFixed(1)} s, bulk-appended in ${seededIn.toFixed(1)} s); round_snapshots caught up in ${caughtUpIn.toFixed(1)} s (${Math.round(events / caughtUpIn)} events/s, ${ROUNDS - HELD_BACK} freezes included); every projection caught up after ${allCaughtUpIn.toFixed(1)} s`);

    // ---- Closing a round: POST close → the frozen snapshot is readable.
    const freezes: { round: string; rows: number; closeMs: number; frozenMs: number }[] = [];
    for (const r of rounds.filter((x) => heldBack.has(x.roundId))) {
      const started = performance.now();
      const closed = await http(po, 'POST', `/api/v1/municipalities/${CODE}/rounds/${r.roundId}/close`, {});
      const closeMs = performance.now() - started;
      const position = closed.headers.get('x-event-position');
      const snap = await http(ev, 'GET', `/api/v1/municipalities/${CODE}/rounds/${r.roundId}/snapshot?knownAt=close&limit=1&minPosition=${position}`);
      const frozenMs = performance.now() - started;
      const body = (await snap.json()) as { total: number };
      freezes.push({ round: r.label, rows: body.total, closeMs, frozenMs });
      console.log(`close ${r.label}: ${body.total} open cases frozen, readable ${ms(frozenMs)} after the close request (the close command itself: ${ms(closeMs)})`);
    }

    // ---- Statistics and flows: every round touched once cold, then REQUESTS spread over all of them.
    const ids = rounds.map((r) => r.roundId);
    const measure = async (paths: string[]): Promise<Latency> => {
      const cold: number[] = [];
      for (const p of paths) {
        const s = performance.now();
        await (await http(po, 'GET', p)).arrayBuffer();
        cold.push(performance.now() - s);
      }
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        await (await http(po, 'GET', paths[i % paths.length]!)).arrayBuffer();
        times.push(performance.now() - s);
      }
      return summary(times, cold);
    };
    const statistics = await measure(ids.map((id) => `/api/v1/municipalities/${CODE}/rounds/${id}/statistics?by=gender,unit`));
    const flows = await measure(ids.slice(1).map((id, i) => `/api/v1/municipalities/${CODE}/flows?fromRound=${ids[i]}&toRound=${id}`));
    const crosstab = await measure(ids.map((id) => `/api/v1/municipalities/${CODE}/rounds/${id}/crosstab?rows=mentalHealth&columns=unit&filter[gender]=female`));
    for (const [label, l] of [['statistics', statistics], ['flows', flows], ['crosstab', crosstab]] as const) {
      console.log(`${label}: p50 ${ms(l.p50Ms)}, p95 ${ms(l.p95Ms)}, max ${ms(l.maxMs)} over ${l.requests} requests; cold first request per round ${l.coldMs.map((x) => x.toFixed(0)).join('/')} ms`);
    }

    // ---- Panel export: rows/s and peak RSS, per format. The client runs in a process of its own
    // (bench/panel-export.client.ts), so this process's CPU and memory are the service's alone.
    // Like the cold first requests above, the first export of a format after start (its code not
    // yet compiled by the JIT) is reported on its own; the figure is the median of the next runs.
    const client = fork(fileURLToPath(new URL('./panel-export.client.js', import.meta.url)), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const replies: ((m: ClientReply) => void)[] = [];
    client.on('message', (m: ClientReply) => replies.shift()?.(m));
    const reply = () => new Promise<ClientReply>((resolve) => replies.push(resolve));
    const exit = new Promise<never>((_, reject) => client.on('exit', (code) => reject(new Error(`panel export client exited (${code})`))));
    exit.catch(() => undefined);
    await Promise.race([reply(), exit]);
    const exportOnce = async (format: string): Promise<ExportRun> => {
      (globalThis as { gc?: () => void }).gc?.();
      const before = process.memoryUsage().rss;
      const peak = peakRss();
      const cpu = process.cpuUsage();
      const answer = reply();
      client.send({ url: `${origin}/api/v1/exports/panel?municipalities=${CODE}&format=${format}`, token: ev, countLines: format !== 'parquet' });
      const r = await Promise.race([answer, exit]);
      const used = process.cpuUsage(cpu);
      const { peakMb, from } = peak.end();
      if ('error' in r) throw new Error(`panel ${format}: ${r.error}`);
      if (!('bytes' in r)) throw new Error(`panel ${format}: unexpected reply ${JSON.stringify(r)}`);
      return { bytes: r.bytes, newlines: r.newlines, seconds: r.seconds, serviceCpuSeconds: (used.user + used.system) / 1e6, rssBeforeMb: mb(before), rssPeakMb: peakMb, peakFrom: from, clientCpuSeconds: r.cpuSeconds, clientMaxRssMb: r.maxRssMb };
    };
    const exportsOut: { format: string; rows: number; bytes: number; seconds: number; rowsPerSecond: number; serviceCpuSeconds: number; rssPeakMb: number; cold: { seconds: number; rowsPerSecond: number; serviceCpuSeconds: number }; runs: ExportRun[] }[] = [];
    try {
      for (const format of ['csv', 'ndjson', 'parquet']) {
        const runs: ExportRun[] = [];
        for (let i = 0; i <= EXPORT_RUNS; i++) runs.push(await exportOnce(format));
        const counted = runs.map((r) => (format === 'csv' ? r.newlines - 1 : r.newlines));
        if (format !== 'parquet' && counted.some((n) => n !== counted[0])) throw new Error(`panel ${format}: ${counted.join('/')} rows in the runs`);
        const rows = format === 'parquet' ? exportsOut[0]!.rows : counted[0]!;
        if (format === 'ndjson' && rows !== exportsOut[0]!.rows) throw new Error(`panel: ${exportsOut[0]!.rows} CSV rows but ${rows} NDJSON lines`);
        const [cold, ...warm] = runs as [ExportRun, ...ExportRun[]];
        const median = [...warm].sort((x, y) => x.seconds - y.seconds)[Math.floor(warm.length / 2)]!;
        const rssPeakMb = Math.max(...runs.map((r) => r.rssPeakMb));
        exportsOut.push({
          format,
          rows,
          bytes: median.bytes,
          seconds: median.seconds,
          rowsPerSecond: rows / median.seconds,
          serviceCpuSeconds: median.serviceCpuSeconds,
          rssPeakMb,
          cold: { seconds: cold.seconds, rowsPerSecond: rows / cold.seconds, serviceCpuSeconds: cold.serviceCpuSeconds },
          runs,
        });
        // CPU seconds of the service's process (all its threads; PostgreSQL not included): on a busy
        // machine the wall time also holds the time it waited for a core.
        const one = (r: ExportRun) => `${Math.round(rows / r.seconds)} rows/s in ${r.seconds.toFixed(2)} s (service CPU ${r.serviceCpuSeconds.toFixed(2)} s)`;
        console.log(
          `panel ${format}: ${rows} rows, ${mb(median.bytes)} MB; cold first export ${one(cold)}; then ${warm.map(one).join(', ')}; median ${Math.round(rows / median.seconds)} rows/s. Service RSS ${median.rssBeforeMb} MB before, ${rssPeakMb} MB peak (${median.peakFrom}); client in its own process: CPU ${median.clientCpuSeconds.toFixed(2)} s, max RSS ${median.clientMaxRssMb} MB`,
        );
      }
    } finally {
      client.disconnect();
    }

    const targets = { statisticsP95Ms: 100, flowsP95Ms: 100, freezeMs: 2000, panelRowsPerSecond: 50_000 };
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log('\n| figure | value | target |\n|---|---:|---|');
    console.log(`| statistics p95 (process owner, by=gender,unit) | ${ms(statistics.p95Ms)} | < 100 ms ${verdict(statistics.p95Ms < targets.statisticsP95Ms)} |`);
    console.log(`| flows p95 (process owner) | ${ms(flows.p95Ms)} | < 100 ms ${verdict(flows.p95Ms < targets.flowsP95Ms)} |`);
    console.log(`| crosstab p95 (process owner, one filter) | ${ms(crosstab.p95Ms)} | – |`);
    const worstFreeze = Math.max(...freezes.map((f) => f.frozenMs));
    console.log(`| closing a round → frozen snapshot readable (worst of ${freezes.length}) | ${ms(worstFreeze)} | < 2 s ${verdict(worstFreeze < targets.freezeMs)} |`);
    for (const e of exportsOut) {
      console.log(`| panel export ${e.format} (median of ${EXPORT_RUNS} after the cold one) | ${Math.round(e.rowsPerSecond)} rows/s, service peak RSS ${e.rssPeakMb} MB | ≥ 50,000 rows/s ${verdict(e.rowsPerSecond >= targets.panelRowsPerSecond)} |`);
    }
    console.log(`| panel export, cold first export csv / ndjson / parquet | ${exportsOut.map((e) => Math.round(e.cold.rowsPerSecond)).join(' / ')} rows/s | – |`);

    const out = path.resolve('bench/results/insight.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, memoryMb: mb(os.totalmem()), node: process.version, load: os.loadavg() },
          seed: { cases: CASES, rounds: ROUNDS, events, generatedSeconds: generatedIn, bulkSeconds: seededIn, projectionCatchUpSeconds: caughtUpIn },
          freezes,
          statistics,
          flows,
          crosstab,
          panelExport: exportsOut,
          targets,
        },
        null,
        2,
      ),
    );
    console.log(`\nwritten to ${out}`);
  } finally {
    await running.close();
    if (!process.env.BENCH_KEEP_DB) await adminClient.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await adminClient.end();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
