/**
 * HTTP benchmark of registration day (`npm run bench:http`; not a test).
 *
 * The built service (`node dist/src/main.js` with WORKERS=auto: a supervising primary and one
 * worker process per core; its own processes, so the load generator does not share an event
 * loop) runs on a fresh database on the server of DATABASE_URL and listens on
 * 127.0.0.1. One municipality gets an open round and BENCH_CASES registered cases, then
 * real HTTP/1.1 clients (keep-alive) play caseworkers, each request with one of
 * BENCH_CASEWORKERS distinct tokens and, like the web client, an Idempotency-Key on every command:
 *   register  POST /cases                    a new person (valid personnummer) in one of the units
 *   assess    POST /cases/{id}/assessments   every question answered, about one in seven "unknown"
 *   read      GET  /cases/{id}                a case with its personnummer (every read is logged)
 * in two phases of at most 20 s:
 *   fixed  BENCH_RATE commands/s (1 register : 4 assess) plus BENCH_READ_RATE reads/s, each
 *          type sent at evenly spaced instants, open loop, latency from the instant a request
 *          was due (runPaced: Node's HTTP client; no coordinated omission, no bursts), after
 *          an unmeasured warm-up of BENCH_WARMUP_SECONDS at the same rates;
 *          target p99 < 50 ms for commands and < 20 ms for reads
 *   max    the same mix with no rate limit (2 + 8 + 5 connections, autocannon): requests per second
 * After seeding, and between the phases, the benchmark waits until every projection has caught up
 * with the log (GET /admin/projections): the async projections fold what the seeding wrote in the
 * service's own process, and a phase must not measure that backlog instead of registration day.
 * Before the phases, the floor of this machine at that moment: sequential `SELECT 1` round trips
 * to PostgreSQL and `GET /health` (no database) over one connection; on a shared machine they
 * tell how much of the latencies above is queueing for the CPU rather than the service.
 * Afterwards the event log is checked against the 2xx answers (every answered command wrote its
 * event), a table is printed and bench/results/http.json written, and the database is dropped.
 *
 *   DATABASE_URL       server where the benchmark may create and drop a database
 *                      (default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_CASES        cases registered before the phases (default 5000)
 *   BENCH_RATE         commands per second in the fixed phase (default 200)
 *   BENCH_READ_RATE    reads per second in the fixed phase (default 100)
 *   BENCH_SECONDS      length of each phase, at most 20 (default 20 for fixed, 15 for max)
 *   BENCH_CASEWORKERS  distinct caseworker tokens (default 50)
 *   BENCH_LOG_LEVEL    the service's LOG_LEVEL (default info, as in production)
 *   BENCH_WORKERS      the service's WORKERS (default auto: one worker process per core, as the
 *                      README recommends for a production machine)
 *   BENCH_WARMUP_SECONDS  unmeasured start of the fixed phase at the same rates (default 2), so its
 *                      figures are of open keep-alive connections, as in a working day
 *   BENCH_PROFILE=1    run the service with --cpu-prof; the folder of the .cpuprofile files (one per
 *                      process, in the system's temporary folder) is printed at the end
 *   BENCH_TIMELINE=<file>  write every fixed-phase answer as [type, ms after the warm-up, latency ms]
 *                      (answers) and the wall-clock instant the warm-up ended (measuredFrom)
 *   BENCH_PG_SAMPLE=1  sample pg_stat_activity every 20 ms in the fixed phase and print what the
 *                      service's connections were doing (running, waiting on a lock, idle in a
 *                      transaction), by statement
 */
import autocannon, { type RequestSpec, type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Random } from '../src/demo/prng.js';
import { QUESTIONNAIRE_V1 } from '../src/questionnaires/questionnaire.js';
import { signDevToken } from '../src/shared/auth/dev-token.js';
import { luhnCheckDigit } from '../src/shared/privacy/personal-identity-number.js';
import { stockholmDate } from '../src/shared/time/calendar.js';
import { UNIT_CODES } from '../src/units/units.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CASES = Number(process.env.BENCH_CASES ?? 5000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const READ_RATE = Number(process.env.BENCH_READ_RATE ?? 100);
const FIXED_SECONDS = Math.min(20, Number(process.env.BENCH_SECONDS ?? 20));
const MAX_SECONDS = Math.min(20, Number(process.env.BENCH_SECONDS ?? 15));
const CASEWORKERS = Number(process.env.BENCH_CASEWORKERS ?? 50);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** The service's WORKERS: one process per core unless told otherwise. */
const WORKERS = process.env.BENCH_WORKERS ?? 'auto';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_DIR = path.join(os.tmpdir(), `vagen-http-service-${Date.now()}`);
const PG_SAMPLE = process.env.BENCH_PG_SAMPLE === '1';
const MUNICIPALITY = '2281';
const API = `/api/v1/municipalities/${MUNICIPALITY}`;
const TARGET_COMMAND_P99_MS = 50;
const TARGET_READ_P99_MS = 20;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = path.join(root, 'bench/results');

type RequestType = 'register' | 'assess' | 'read';
interface Row {
  phase: 'fixed' | 'max';
  type: RequestType;
  connections: number;
  targetRate: number | null;
  seconds: number;
  requests: number;
  ok: number;
  /** 2xx answers to requests of the warm-up (fixed phase), not in the figures but in the checks. */
  warmupOk?: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

// ---------------------------------------------------------------- the people and their answers

/** A valid personnummer for person `i`: distinct for i < 20,000,000 (born 1950–2004, serial 000–999). */
function personnummer(i: number): string {
  const born = new Date(Date.UTC(1950, 0, 1) + (i % 20_000) * 86_400_000);
  const ymd = born.toISOString().slice(0, 10).replace(/-/g, '');
  const serial = String(Math.floor(i / 20_000) % 1000).padStart(3, '0');
  return `${ymd}${serial}${luhnCheckDigit(ymd.slice(2) + serial)}`;
}

function registration(i: number, effectiveDate?: string): Record<string, unknown> {
  const r = new Random(i + 1);
  return {
    personalIdentityNumber: personnummer(i),
    gender: r.pick(['female', 'male', 'female', 'male', 'other', 'unknown']),
    bornAbroad: r.pick(['yes', 'no', 'no', 'unknown']),
    childrenInHousehold: r.chance(0.1) ? 'unknown' : r.int(0, 4),
    unit: r.pick(UNIT_CODES),
    ...(effectiveDate ? { effectiveDate } : {}),
  };
}

/** Every question of version 1 answered; about one answer in seven is "unknown" (Vet ej). */
function answers(seed: number): Record<string, string | string[]> {
  const r = new Random(seed * 7919 + 17);
  const out: Record<string, string | string[]> = {};
  for (const q of QUESTIONNAIRE_V1.questions) {
    const codes = q.options.map((o) => o.code).filter((c) => c !== 'unknown');
    if (r.chance(0.14)) out[q.key] = q.type === 'multi' ? ['unknown'] : 'unknown';
    else if (q.type === 'single') out[q.key] = r.pick(codes);
    else if (codes.includes('none') && r.chance(0.25)) out[q.key] = ['none'];
    else {
      const some = codes.filter((c) => c !== 'none' && r.chance(0.3));
      out[q.key] = some.length > 0 ? some : [r.pick(codes.filter((c) => c !== 'none'))];
    }
  }
  return out;
}

// ---------------------------------------------------------------- the service

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Service {
  url: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<number | null>;
}

async function startService(databaseUrl: string, jwtSecret: string, dataDir: string): Promise<Service> {
  const port = await freePort();
  const logFile = path.join(dataDir, 'service.log');
  const out = openSync(logFile, 'a');
  // With WORKERS > 1 every worker inherits --cpu-prof and writes its own profile into the folder.
  const args = [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), path.join(root, 'dist/src/main.js')];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      VAGEN_DATA_DIR: dataDir,
      DEMO: 'false',
      WORKERS,
      LOG_LEVEL,
      // The limiter still runs (and costs what it costs), but 50 caseworkers seeding thousands of
      // cases on a fast machine would pass 1,200 requests a minute each and measure 429s.
      RATE_LIMIT_PER_MINUTE: '1000000',
      AUTH_JWT_SECRET: jwtSecret,
      MASTER_KEY: randomBytes(32).toString('hex'),
      PSEUDONYM_KEY: randomBytes(32).toString('hex'),
    },
  });
  closeSync(out);
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exited = code))));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the service exited with ${exited} while starting:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within 90 s:\n${tail(logFile)}`);
    }
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    logFile,
    async stop() {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------- the load

class Load {
  private nextPerson = 0;
  private nextKey = 0;
  private nextToken = 0;
  private readonly runId = randomBytes(4).toString('hex');

  constructor(private readonly tokens: string[]) {}

  /** One of the caseworkers, in turn: the service sees many users, not one. */
  headers(command: boolean): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.tokens[this.nextToken++ % this.tokens.length]}` };
    if (command) {
      h['content-type'] = 'application/json';
      h['idempotency-key'] = `bench-${this.runId}-${this.nextKey++}`;
    }
    return h;
  }

  /** New people; the ids of the registered cases are pushed to `ids` (from the Location header). */
  register(ids: string[], effectiveDate?: string): RequestSpec {
    return {
      method: 'POST',
      path: `${API}/cases`,
      setupRequest: (req) => ({ ...req, headers: this.headers(true), body: JSON.stringify(registration(this.nextPerson++, effectiveDate)) }),
      onResponse: (status, _body, _ctx, headers) => {
        if (status === 201 && headers.location) ids.push(headers.location.slice(headers.location.lastIndexOf('/') + 1));
      },
    };
  }

  /** Each case of `pool` assessed once in each of `rounds`, in order (round by round). */
  assess(pool: string[], rounds: string[]): RequestSpec {
    let next = 0;
    return {
      method: 'POST',
      path: `${API}/cases`,
      setupRequest: (req) => {
        const i = next++;
        // Past the last round a case is assessed again: a 409, counted as non-2xx (there are
        // enough rounds for the phase's length; autocannon's `amount` would outlast `duration`).
        const id = pool[i % pool.length]!;
        const roundId = rounds[Math.min(Math.floor(i / pool.length), rounds.length - 1)]!;
        return { ...req, path: `${API}/cases/${id}/assessments`, headers: this.headers(true), body: JSON.stringify({ roundId, answers: answers(i) }) };
      },
    };
  }

  read(pool: string[]): RequestSpec {
    const r = new Random(4711);
    return {
      method: 'GET',
      path: `${API}/cases`,
      setupRequest: (req) => ({ ...req, path: `${API}/cases/${r.pick(pool)}`, headers: this.headers(false) }),
    };
  }
}

interface Stream {
  type: RequestType;
  spec: RequestSpec;
  connections: number;
  rate?: number;
}

// ---------------------------------------------------------------- CPU time, from /proc (Linux)
// Latency on a shared 2-core machine moves with whatever else runs; CPU time per request of the
// service and of its PostgreSQL backends does not, so before/after comparisons use it too.

const CLK_TCK = 100; // USER_HZ on Linux

/** The fields of /proc/<pid>/stat after the command name (state, ppid, …), or undefined once it is gone. */
function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User plus system CPU of a process, ms. */
const cpuMsOfStat = (fields: string[]) => ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;

function cpuMsOf(pid: number): number | undefined {
  const fields = procStat(pid);
  return fields && cpuMsOfStat(fields);
}

interface CpuSnapshot {
  service: number;
  /** This process: the load generator. */
  generator: number;
  backends: Map<number, number>;
  /** application_name of each backend: the projection runners name theirs `vagen-projections:<name>`. */
  names: Map<number, string>;
}

/** The service's own view of a phase, from its Prometheus metrics (/metrics, no auth). */
interface ServiceView {
  /** Share of requests the service itself answered in more than 20 and 50 ms (its histogram). */
  over20ms: number;
  over50ms: number;
  /** The same shares for each request type alone (register, assess, read). */
  byType: Record<RequestType, { over20ms: number; over50ms: number }>;
  /**
   * Event-loop lag beyond prom-client's 10 ms timer (its histogram is reset at every scrape, so it
   * covers the phase; a histogram of timer intervals, so the 10 ms interval itself is taken off), ms.
   */
  loopLagP99: number;
  loopLagMax: number;
  /** Time spent in garbage collection during the phase, ms, by kind. */
  gcMs: Record<string, number>;
}

interface MetricsScrape {
  buckets: Map<string, number>;
  /** Cumulative bucket counts per request type ("le" → count), and the type's request count. */
  typed: Record<RequestType, { buckets: Map<string, number>; count: number }>;
  count: number;
  gc: Record<string, number>;
  lagP99: number;
  lagMax: number;
}

async function scrapeMetrics(url: string): Promise<MetricsScrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<string, number>();
  const typed: MetricsScrape['typed'] = {
    register: { buckets: new Map(), count: 0 },
    assess: { buckets: new Map(), count: 0 },
    read: { buckets: new Map(), count: 0 },
  };
  // The routes of the three request types, as the service labels them.
  const typeOf = (line: string): RequestType | undefined =>
    line.includes('method="POST",route="/api/v1/municipalities/:code/cases"')
      ? 'register'
      : line.includes('method="POST",route="/api/v1/municipalities/:code/cases/:id/assessments"')
        ? 'assess'
        : line.includes('method="GET",route="/api/v1/municipalities/:code/cases/:id"')
          ? 'read'
          : undefined;
  let count = 0;
  const gc: Record<string, number> = {};
  let lagP99 = NaN;
  let lagMax = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^vagen_http_request_duration_seconds_bucket\{.*le="([^"]+)".*\}/))) {
      buckets.set(m[1]!, (buckets.get(m[1]!) ?? 0) + value);
      const t = typeOf(line);
      if (t) typed[t].buckets.set(m[1]!, (typed[t].buckets.get(m[1]!) ?? 0) + value);
    } else if (line.startsWith('vagen_http_request_duration_seconds_count')) {
      count += value;
      const t = typeOf(line);
      if (t) typed[t].count += value;
    }
    else if ((m = line.match(/^vagen_nodejs_gc_duration_seconds_sum\{kind="([^"]+)"\}/))) gc[m[1]!] = value * 1000;
    else if (line.startsWith('vagen_nodejs_eventloop_lag_p99_seconds')) lagP99 = Math.max(0, value * 1000 - 10);
    else if (line.startsWith('vagen_nodejs_eventloop_lag_max_seconds')) lagMax = Math.max(0, value * 1000 - 10);
  }
  return { buckets, typed, count, gc, lagP99, lagMax };
}

/** Shares of the requests between two scrapes of one histogram answered in over 20 and 50 ms. */
function sharesOver(a: { buckets: Map<string, number>; count: number }, b: { buckets: Map<string, number>; count: number }): { over20ms: number; over50ms: number } {
  const n = b.count - a.count;
  const over = (le: string) => (n > 0 ? 1 - ((b.buckets.get(le) ?? 0) - (a.buckets.get(le) ?? 0)) / n : NaN);
  return { over20ms: over('0.02'), over50ms: over('0.05') };
}

function serviceView(a: MetricsScrape, b: MetricsScrape): ServiceView {
  const gcMs = Object.fromEntries(Object.entries(b.gc).map(([k, v]) => [k, Math.round(v - (a.gc[k] ?? 0))]));
  const byType = Object.fromEntries((['register', 'assess', 'read'] as const).map((t) => [t, sharesOver(a.typed[t], b.typed[t])])) as ServiceView['byType'];
  return { ...sharesOver(a, b), byType, loopLagP99: b.lagP99, loopLagMax: b.lagMax, gcMs };
}

/** The service's processes: with WORKERS > 1, the supervising primary and its workers. */
function serviceCpuMs(pid: number): number | undefined {
  const own = cpuMsOf(pid);
  if (own === undefined) return undefined;
  let sum = own;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(entry);
    if (fields && Number(fields[1]) === pid) sum += cpuMsOfStat(fields);
  }
  return sum;
}

async function cpuSnapshot(admin: pg.Client, dbName: string, servicePid: number): Promise<CpuSnapshot | undefined> {
  const service = serviceCpuMs(servicePid);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(new URL(ADMIN_URL).hostname);
  if (service === undefined || !local) return undefined;
  const { rows } = await admin.query<{ pid: number; application_name: string }>('SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1', [dbName]);
  const backends = new Map<number, number>();
  const names = new Map<number, string>();
  for (const { pid, application_name } of rows) {
    const ms = cpuMsOf(pid);
    if (ms !== undefined) backends.set(pid, ms);
    names.set(pid, application_name);
  }
  return { service, generator: cpuMsOf(process.pid) ?? 0, backends, names };
}

/** CPU ms of the service and of the database's backends between two snapshots (backends that ended in between are lost). */
function cpuBetween(
  a: CpuSnapshot | undefined,
  b: CpuSnapshot | undefined,
): { serviceMs: number; postgresMs: number; generatorMs: number; postgresMsByApplication: Record<string, number> } | null {
  if (!a || !b) return null;
  let postgresMs = 0;
  const postgresMsByApplication: Record<string, number> = {};
  for (const [pid, ms] of b.backends) {
    const used = ms - (a.backends.get(pid) ?? 0);
    postgresMs += used;
    const name = (b.names.get(pid) || 'requests (pool)').replace(/^vagen-projections:/, 'projection ');
    postgresMsByApplication[name] = (postgresMsByApplication[name] ?? 0) + used;
  }
  return { serviceMs: b.service - a.service, postgresMs, generatorMs: b.generator - a.generator, postgresMsByApplication };
}

async function runPhase(url: string, phase: Row['phase'], seconds: number, streams: Stream[]): Promise<Row[]> {
  const results: Result[] = await Promise.all(
    streams.map((s) =>
      autocannon({
        url,
        connections: s.connections,
        duration: seconds,
        ...(s.rate ? { overallRate: s.rate } : {}),
        timeout: 10,
        requests: [s.spec],
      }),
    ),
  );
  return results.map((r, i) => {
    const s = streams[i]!;
    const requests = r['2xx'] + r.non2xx;
    return {
      phase,
      type: s.type,
      connections: s.connections,
      targetRate: s.rate ?? null,
      seconds: r.duration,
      requests,
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      perSecond: requests / r.duration,
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
    };
  });
}

/**
 * The fixed phase's load: each stream's requests are sent at evenly spaced instants (open loop,
 * Node's HTTP/1.1 client, keep-alive, at most `connections` sockets per stream), whether or not
 * earlier ones were answered. Latency runs from the instant a request was due, so a service (or
 * client) that falls behind is charged for the wait: no coordinated omission.
 *
 * Not autocannon's `overallRate`: it lets each connection send its quota for the second back to
 * back and then pauses it until the next second, with every connection's second starting at the
 * same instant. A "200/s" load then arrives as one burst at the start of each second, and the
 * burst, not the service, set the p99 (even at 20 commands/s the p50 was ~70 ms, against ~10 ms
 * for the same requests sent one at a time).
 */
async function runPaced(url: string, phase: Row['phase'], seconds: number, streams: Stream[], warmup: { seconds: number; onMeasureStart?: () => Promise<void> } = { seconds: 0 }): Promise<Row[]> {
  const target = new URL(url);
  const begin = performance.now();
  const measureFrom = begin + warmup.seconds * 1000;
  // BENCH_TIMELINE=<file>: every answer as [type, ms due after the warm-up, latency ms], to see when a tail happened.
  const timelineFile = process.env.BENCH_TIMELINE;
  const timeline: [RequestType, number, number][] | undefined = timelineFile ? [] : undefined;
  const measuring = new Promise<void>((resolve, reject) => setTimeout(() => (warmup.onMeasureStart ?? (async () => undefined))().then(resolve, reject), warmup.seconds * 1000));
  const rows = await Promise.all(
    streams.map(async (s) => {
      const rate = s.rate!;
      // FIFO: each request takes the socket idle longest, so every connection carries its share, as
      // each caseworker's browser does. Node's default (LIFO) sent most requests over a few hot
      // sockets, which landed on one worker: 4,150 against 1,850 requests in one run.
      const agent = new http.Agent({ keepAlive: true, maxSockets: s.connections, scheduling: 'fifo' });
      const latencies: number[] = [];
      let ok = 0;
      let warmupOk = 0;
      let non2xx = 0;
      let errors = 0;
      let timeouts = 0;
      const inFlight = new Set<Promise<void>>();
      const send = (due: number) => {
        // Requests due in the warm-up are sent alike but not measured; a failure there still counts.
        const measured = due >= measureFrom;
        const req = s.spec.setupRequest ? s.spec.setupRequest({ method: s.spec.method, path: s.spec.path, headers: {} }, {}) : s.spec;
        const done = new Promise<void>((resolve) => {
          const r = http.request({ host: target.hostname, port: target.port, agent, method: req.method, path: req.path, headers: req.headers, timeout: 10_000 }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if (measured) latencies.push(performance.now() - due);
              if (status >= 200 && status < 300) {
                if (measured) ok++;
                else warmupOk++;
              } else non2xx++;
              timeline?.push([s.type, Math.round(due - measureFrom), Math.round(performance.now() - due)]);
              s.spec.onResponse?.(status, Buffer.concat(chunks).toString(), {}, res.headers as Record<string, string>);
              resolve();
            });
          });
          let timedOut = false;
          r.on('timeout', () => {
            timedOut = true;
            timeouts++;
            r.destroy(new Error('timeout'));
          });
          r.on('error', () => {
            // A timeout is counted once, as a timeout (destroying the request also emits 'error').
            if (!timedOut) errors++;
            resolve();
          });
          r.end(req.body);
        });
        inFlight.add(done);
        void done.then(() => inFlight.delete(done));
      };
      const interval = 1000 / rate;
      const count = Math.floor((warmup.seconds + seconds) * rate);
      const start = begin + Math.random() * interval;
      let next = 0;
      while (next < count) {
        const now = performance.now();
        // Whatever is due now goes now (a late timer sends the ones it owes at once).
        while (next < count && start + next * interval <= now) send(start + next++ * interval);
        if (next < count) await new Promise((r) => setTimeout(r, Math.max(0, start + next * interval - performance.now())));
      }
      await Promise.all([...inFlight]);
      const elapsed = (performance.now() - Math.max(start, measureFrom)) / 1000;
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const pct = (q: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!) : NaN);
      return {
        phase,
        type: s.type,
        connections: s.connections,
        targetRate: rate,
        seconds: elapsed,
        requests: ok + non2xx,
        ok,
        warmupOk,
        non2xx,
        errors,
        timeouts,
        perSecond: (ok + non2xx) / elapsed,
        p50: pct(0.5),
        p90: pct(0.9),
        p99: pct(0.99),
        max: latencies.length ? Math.round(latencies[latencies.length - 1]!) : NaN,
      };
    }),
  );
  await measuring;
  if (timeline && timelineFile) writeFileSync(timelineFile, JSON.stringify({ measuredFrom: new Date(Date.now() - (performance.now() - measureFrom)).toISOString(), answers: timeline }));
  return rows;
}

async function call(url: string, token: string, method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Samples what the database's backends are doing until `stop` is called; returns the tallies, most frequent first. */
function samplePgActivity(adminUrl: string, dbName: string): { stop(): Promise<[string, number][]> } {
  const tally = new Map<string, number>();
  let running = true;
  const done = (async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    let samples = 0;
    while (running) {
      const { rows } = await c.query<{ what: string }>(
        `SELECT state || coalesce(' / ' || wait_event_type || ':' || wait_event, '') || ' | ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS what
         FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle'`,
        [dbName],
      );
      samples++;
      for (const r of rows) tally.set(r.what, (tally.get(r.what) ?? 0) + 1);
      // The event store's global append lock (APPEND_LOCK, one bigint key: objid = the key, objsubid 1).
      const lock = await c.query(
        `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.objid = 727190002 AND l.objsubid = 1 AND l.granted AND a.datname = $1`,
        [dbName],
      );
      if (lock.rowCount) tally.set('(append lock held)', (tally.get('(append lock held)') ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.end();
    return samples;
  })();
  return {
    async stop() {
      running = false;
      const samples = await done;
      return [...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, n / samples] as [string, number]);
    },
  };
}

/** Waits until no projection lags behind the head of the log; returns the seconds it took. */
async function projectionsCaughtUp(url: string, adminToken: string, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const list = (await call(url, adminToken, 'GET', '/api/v1/admin/projections')) as unknown as { items: { name: string; lag: number }[] };
    const behind = list.items.filter((p) => p.lag > 0);
    if (behind.length === 0) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) throw new Error(`projections still behind after ${timeoutMs / 1000} s: ${behind.map((p) => `${p.name} ${p.lag}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * p50/p99 in ms of `n` sequential statements on one connection. An INSERT into a plain table
 * commits with a WAL flush (fsync), as every append, access-log row and idempotency record does.
 */
async function statementFloor(url: string, sql: string, n = 300): Promise<{ p50: number; p99: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE IF NOT EXISTS bench_floor_probe (at timestamptz DEFAULT now())');
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await c.query(sql);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await c.end();
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n * 0.5)]!, p99: ms[Math.floor(n * 0.99)]! };
}

// ---------------------------------------------------------------- report

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function table(rows: Row[]): string {
  const head = ['phase', 'type', 'conns', 'target/s', 'requests', 'non-2xx', 'errors', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
  const body = rows.map((r) => [
    r.phase,
    r.type,
    String(r.connections),
    r.targetRate === null ? 'max' : String(r.targetRate),
    String(r.requests),
    String(r.non2xx),
    String(r.errors + r.timeouts),
    fmt(r.perSecond),
    fmt(r.p50),
    fmt(r.p90),
    fmt(r.p99),
    fmt(r.max, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const dbName = `vagen_bench_http_${Date.now()}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const pgVersion = (await admin.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
  const settings = Object.fromEntries(
    (await admin.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers','synchronous_commit','fsync','max_connections','work_mem')`,
    )).rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting]),
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vagen-bench-http-'));
  mkdirSync(resultsDir, { recursive: true });
  let service: Service | undefined;
  try {
    const jwtSecret = randomBytes(32).toString('hex');
    const startedAt = Date.now();
    service = await startService(dbUrl.toString(), jwtSecret, dataDir);
    console.log(`service ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s at ${service.url} (database ${dbName}, LOG_LEVEL=${LOG_LEVEL})`);
    const caseworkers = await Promise.all(
      Array.from({ length: CASEWORKERS }, (_, i) => signDevToken(jwtSecret, { sub: `caseworker-${i + 1}`, name: `Handläggare ${i + 1}`, roles: ['caseworker'], municipalities: [MUNICIPALITY] })),
    );
    const owner = await signDevToken(jwtSecret, { sub: 'process-owner', roles: ['process_owner'], municipalities: [MUNICIPALITY] });
    const adminToken = await signDevToken(jwtSecret, { sub: 'bench-admin', roles: ['admin'], municipalities: [MUNICIPALITY] });
    const load = new Load(caseworkers);
    const today = stockholmDate();
    const earlier = stockholmDate(new Date(Date.now() - 60 * 86_400_000));

    // Seed: a round open today and CASES people registered two months ago.
    const roundA = String((await call(service.url, owner, 'POST', `${API}/rounds`, { label: 'Bench A', referenceDate: today, questionnaireVersion: 1 })).id);
    const seeded: string[] = [];
    const seedStart = Date.now();
    const seed = await autocannon({ url: service.url, connections: 16, amount: CASES, timeout: 30, requests: [load.register(seeded, earlier)] });
    if (seeded.length !== CASES) throw new Error(`seeding registered ${seeded.length} of ${CASES} cases (non-2xx ${seed.non2xx}, errors ${seed.errors})`);
    console.log(`seeded ${CASES} cases in ${((Date.now() - seedStart) / 1000).toFixed(1)} s (${fmt(CASES / ((Date.now() - seedStart) / 1000), 0)}/s, 16 connections)`);
    console.log(`projections caught up ${fmt(await projectionsCaughtUp(service.url, adminToken))} s later`);

    const floorHttp = await autocannon({ url: `${service.url}/health`, connections: 1, duration: 3 });
    const floor = {
      selectOne: await statementFloor(dbUrl.toString(), 'SELECT 1'),
      commitWithWalFlush: await statementFloor(dbUrl.toString(), 'INSERT INTO bench_floor_probe DEFAULT VALUES', 200),
      health: { p50: floorHttp.latency.p50, p99: floorHttp.latency.p99 },
    };
    const pp = (f: { p50: number; p99: number }, d = 2) => `p50 ${fmt(f.p50, d)} ms, p99 ${fmt(f.p99, d)} ms`;
    console.log(`floor: SELECT 1 ${pp(floor.selectOne)}; INSERT + commit (WAL flush) ${pp(floor.commitWithWalFlush)}; GET /health ${pp(floor.health, 0)}`);
    const loadBefore = os.loadavg();
    const servicePid = service.child.pid!;
    const cpu: Record<Row['phase'], { serviceMs: number; postgresMs: number; generatorMs: number; postgresMsByApplication: Record<string, number>; requests: number } | null> = { fixed: null, max: null };

    // Fixed rate: RATE commands/s as 1 register : 4 assess, and READ_RATE reads/s besides.
    const registeredFixed: string[] = [];
    const registerRate = Math.round(RATE / 5);
    const assessRate = RATE - registerRate;
    if (assessRate * (WARMUP_SECONDS + FIXED_SECONDS) > seeded.length) throw new Error(`BENCH_CASES=${CASES} is too few for ${assessRate} assessments/s for ${WARMUP_SECONDS} + ${FIXED_SECONDS} s`);
    console.log(`fixed phase: ${registerRate} registrations/s + ${assessRate} assessments/s + ${READ_RATE} reads/s for ${WARMUP_SECONDS} s of warm-up, then ${FIXED_SECONDS} s measured`);
    // Latencies are of the requests due after the warm-up: the keep-alive connections are open,
    // as in a working day. CPU, the service's histogram and GC are taken before the warm-up and
    // cover it too (per request over all of them): scraping /metrics and reading /proc in the
    // middle of the load stalled the service and this process for tens of milliseconds.
    let before = await cpuSnapshot(admin, dbName, servicePid);
    const metricsBefore = await scrapeMetrics(service.url);
    const generatorLoop = monitorEventLoopDelay({ resolution: 1 });
    let sampler: ReturnType<typeof samplePgActivity> | undefined;
    const fixed = await runPaced(
      service.url,
      'fixed',
      FIXED_SECONDS,
      [
        { type: 'register', spec: load.register(registeredFixed), connections: 10, rate: registerRate },
        { type: 'assess', spec: load.assess(seeded, [roundA]), connections: 40, rate: assessRate },
        { type: 'read', spec: load.read(seeded), connections: 20, rate: READ_RATE },
      ],
      {
        seconds: WARMUP_SECONDS,
        onMeasureStart: async () => {
          generatorLoop.enable();
          sampler = PG_SAMPLE ? samplePgActivity(ADMIN_URL, dbName) : undefined;
        },
      },
    );
    const fixedCpu = cpuBetween(before, await cpuSnapshot(admin, dbName, servicePid));
    generatorLoop.disable();
    const fixedView = serviceView(metricsBefore, await scrapeMetrics(service.url));
    // Intervals of a 1 ms timer: the 1 ms is taken off, as for the service.
    const generator = { loopDelayP99: Math.max(0, generatorLoop.percentile(99) / 1e6 - 1), loopDelayMax: Math.max(0, generatorLoop.max / 1e6 - 1) };
    if (sampler) {
      console.log('PostgreSQL backends of the service in the fixed phase (average number busy per sample, by state / wait | statement):');
      const tallies = await sampler.stop();
      const lock = tallies.find(([what]) => what === '(append lock held)')?.[1] ?? 0;
      console.log(`  append lock held in ${(lock * 100).toFixed(0)}% of the samples`);
      for (const [what, n] of tallies.filter(([w]) => !w.startsWith('(')).slice(0, 25)) console.log(`  ${n.toFixed(2).padStart(6)}  ${what}`);
    }
    cpu.fixed = fixedCpu && { ...fixedCpu, requests: fixed.reduce((n, r) => n + r.requests + (r.warmupOk ?? 0), 0) };

    // Max: three more open rounds, so every case can be assessed again; no rate limit.
    const maxRounds: string[] = [];
    for (const label of ['Bench B', 'Bench C', 'Bench D']) {
      maxRounds.push(String((await call(service.url, owner, 'POST', `${API}/rounds`, { label, referenceDate: today, questionnaireVersion: 1 })).id));
    }
    const registeredMax: string[] = [];
    console.log(`projections caught up ${fmt(await projectionsCaughtUp(service.url, adminToken))} s after the fixed phase`);
    console.log(`max phase: unthrottled, 2 + 8 + 5 connections for ${MAX_SECONDS} s`);
    before = await cpuSnapshot(admin, dbName, servicePid);
    const max = await runPhase(service.url, 'max', MAX_SECONDS, [
      { type: 'register', spec: load.register(registeredMax), connections: 2 },
      { type: 'assess', spec: load.assess([...seeded, ...registeredFixed], maxRounds), connections: 8 },
      { type: 'read', spec: load.read(seeded), connections: 5 },
    ]);
    const maxCpu = cpuBetween(before, await cpuSnapshot(admin, dbName, servicePid));
    cpu.max = maxCpu && { ...maxCpu, requests: max.reduce((n, r) => n + r.requests, 0) };
    const loadAfter = os.loadavg();
    const rows = [...fixed, ...max];

    // Every 2xx command left its event (and a request still in flight when a phase ended may
    // have left one more); every answer with a case in it wrote an access-log row.
    const db = new pg.Client({ connectionString: dbUrl.toString() });
    await db.connect();
    const counts = Object.fromEntries((await db.query<{ type: string; n: number }>(`SELECT type, count(*)::int AS n FROM event_log GROUP BY type`)).rows.map((r) => [r.type, r.n]));
    const accessLogRows = Number((await db.query(`SELECT count(*)::int AS n FROM access_log`)).rows[0].n);
    await db.end();
    const sum = (type: RequestType, f: (r: Row) => number) => rows.filter((r) => r.type === type).reduce((n, r) => n + f(r), 0);
    // Every 2xx answer, measured or of the warm-up.
    const answered = (r: Row) => r.ok + (r.warmupOk ?? 0);
    const checks = {
      caseRegisteredEvents: counts.CaseRegistered ?? 0,
      answered201Register: CASES + sum('register', answered),
      assessmentRecordedEvents: counts.AssessmentRecorded ?? 0,
      answered201Assess: sum('assess', answered),
      accessLogRows,
      answeredWithACase: CASES + sum('register', answered) + sum('assess', answered) + sum('read', answered),
    };
    const within = (events: number, answered: number, inFlight: number) => events >= answered && events <= answered + inFlight;
    const consistent =
      within(checks.caseRegisteredEvents, checks.answered201Register, sum('register', (r) => r.connections)) &&
      within(checks.assessmentRecordedEvents, checks.answered201Assess, sum('assess', (r) => r.connections)) &&
      accessLogRows >= checks.answeredWithACase;

    const fixedCommands = fixed.filter((r) => r.type !== 'read');
    const commandP99 = Math.max(...fixedCommands.map((r) => r.p99));
    const readP99 = fixed.find((r) => r.type === 'read')!.p99;
    const achievedCommandRate = fixedCommands.reduce((s, r) => s + r.perSecond, 0);
    const maxTotal = max.reduce((s, r) => s + r.perSecond, 0);
    const maxCommands = max.filter((r) => r.type !== 'read').reduce((s, r) => s + r.perSecond, 0);
    const failures = rows.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0);
    const machine = {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      postgres: pgVersion,
      postgresSettings: settings,
      loadavgBefore: loadBefore.map((x) => Number(x.toFixed(2))),
      loadavgAfter: loadAfter.map((x) => Number(x.toFixed(2))),
    };

    console.log(`\nRegistration day over HTTP (fixed: paced Node HTTP clients; max: autocannon; keep-alive, ${CASEWORKERS} caseworker tokens, ${CASES} cases seeded)\n`);
    console.log(table(rows));
    console.log(
      `\nfixed: ${fmt(achievedCommandRate)} commands/s achieved (target ${RATE}); command p99 ${fmt(commandP99)} ms (target < ${TARGET_COMMAND_P99_MS}: ${commandP99 < TARGET_COMMAND_P99_MS ? 'met' : 'MISSED'}), ` +
        `read p99 ${fmt(readP99)} ms (target < ${TARGET_READ_P99_MS}: ${readP99 < TARGET_READ_P99_MS ? 'met' : 'MISSED'})`,
    );
    console.log(`max:   ${fmt(maxTotal)} requests/s (${fmt(maxCommands)} commands/s)`);
    for (const phase of ['fixed', 'max'] as const) {
      const c = cpu[phase];
      if (c) {
        const parts = Object.entries(c.postgresMsByApplication)
          .sort((x, y) => y[1] - x[1])
          .map(([name, ms]) => `${name} ${fmt(ms / c.requests, 2)}`)
          .join(', ');
        console.log(
          `cpu (${phase}): service ${fmt(c.serviceMs / c.requests, 2)} ms/request, PostgreSQL ${fmt(c.postgresMs / c.requests, 2)} ms/request (${parts}), ` +
            `load generator ${fmt(c.generatorMs / c.requests, 2)} ms/request`,
        );
      }
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `tail (fixed): the service answered ${pct(fixedView.over20ms)} of its requests in over 20 ms and ${pct(fixedView.over50ms)} in over 50 ms (its own histogram, warm-up included; ` +
        `over 20 ms: register ${pct(fixedView.byType.register.over20ms)}, assess ${pct(fixedView.byType.assess.over20ms)}, read ${pct(fixedView.byType.read.over20ms)}); ` +
        `its event loop was held up p99 (mean of the workers) ${fmt(fixedView.loopLagP99)} ms, max ${fmt(fixedView.loopLagMax)} ms; GC ${JSON.stringify(fixedView.gcMs)} ms; ` +
        `the load generator's p99 ${fmt(generator.loopDelayP99)} ms, max ${fmt(generator.loopDelayMax)} ms`,
    );
    console.log(`checks: ${failures} non-2xx/errors; events ${consistent ? 'match' : 'DO NOT match'} the 2xx answers ${JSON.stringify(checks)}`);
    console.log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, ${machine.platform}, node ${machine.node}, load ${machine.loadavgBefore.join(' ')} → ${machine.loadavgAfter.join(' ')}`);
    console.log(`postgres: ${pgVersion.split(' on ')[0]} ${JSON.stringify(settings)}; service, PostgreSQL and the load generator share the machine`);

    const out = path.join(resultsDir, 'http.json');
    writeFileSync(
      out,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine,
          parameters: { cases: CASES, rate: RATE, readRate: READ_RATE, workers: WORKERS, warmupSeconds: WARMUP_SECONDS, fixedSeconds: FIXED_SECONDS, maxSeconds: MAX_SECONDS, caseworkers: CASEWORKERS, logLevel: LOG_LEVEL, profile: PROFILE },
          targets: { commandP99Ms: TARGET_COMMAND_P99_MS, readP99Ms: TARGET_READ_P99_MS },
          summary: { achievedCommandRate, commandP99, readP99, targetsMet: commandP99 < TARGET_COMMAND_P99_MS && readP99 < TARGET_READ_P99_MS, maxRequestsPerSecond: maxTotal, maxCommandsPerSecond: maxCommands, failures, consistent },
          floor,
          tail: { service: fixedView, generator },
          rows,
          cpuMsPerRequest: Object.fromEntries(
            Object.entries(cpu).map(([k, c]) => [k, c && { service: c.serviceMs / c.requests, postgres: c.postgresMs / c.requests, loadGenerator: c.generatorMs / c.requests }]),
          ),
          checks,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
    if (failures > 0 || !consistent) process.exitCode = 1;
  } catch (e) {
    if (service) console.error(`service log (tail):\n${tail(service.logFile)}`);
    throw e;
  } finally {
    const code = await service?.stop();
    if (code !== undefined && code !== 0) console.error(`the service exited with ${code}`);
    if (PROFILE && service) console.log(`CPU profiles of the service's processes: ${PROFILE_DIR}`);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
