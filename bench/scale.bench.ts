/**
 * Scale benchmark on a simulated log (`npm run bench:scale`; not a test). Run it after
 * `npm run simulate` against the same database:
 *
 *   1. catch-up  the service starts on the database; every async projection builds from the
 *                bulk-imported log (the import wrote only events). Time until no lag.
 *   2. rebuild   every projection (inline ones first: the bulk import does not write them) is
 *                rebuilt beside its live build, one at a time. Time until switched, events/s.
 *   3. queries   real HTTP on 127.0.0.1 against the largest simulated municipality, one request
 *                at a time: p50/p95/max per endpoint (a cold first request is left out).
 *
 *   DATABASE_URL     the simulated database (required)
 *   VAGEN_DATA_DIR   where `simulate` found its dev secrets (the same keys read the vault)
 *   BENCH_QUERIES    requests per endpoint (default 30)
 *   BENCH_REBUILD    all | inline | none (default all)
 *   BENCH_SKIP       projections not waited for and not rebuilt (comma-separated), for ones too
 *                    slow to build at this scale; their build rate while the others ran is printed
 *   BENCH_OUT        also write the figures as JSON to this file
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { resolveSecrets } from '../src/config/dev-secrets.js';
import { poolOf } from '../src/shared/database/database.js';
import { signDevToken } from '../src/shared/auth/dev-token.js';
import type { Role } from '../src/shared/auth/principal.js';
import { ProjectionEngine } from '../src/shared/projections/projection-engine.js';
import { caseIdOfStream } from '../src/shared/streams.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL (the simulated database) is required');
  const queries = Number(process.env.BENCH_QUERIES ?? 30);
  const rebuildMode = process.env.BENCH_REBUILD ?? 'all';
  const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
  const config = { ...resolveSecrets(loadConfig({ ...process.env, DEMO: 'false', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' })), demo: false };
  const started = performance.now();
  const running = await createApp(config);
  const out: Record<string, unknown> = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}` };
  try {
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = running.app.getHttpServer().address() as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const pool = poolOf(running.dataSource);
    const engine = running.app.get(ProjectionEngine);
    const one = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0] as T;
    const head = Number((await one<{ p: string }>(`SELECT greatest((SELECT coalesce(max(position), 0) FROM events), coalesce((SELECT last_position FROM event_chunks ORDER BY first_position DESC LIMIT 1), 0)) AS p`)).p);
    const size = Number((await one<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).s);
    const tenants = Number((await one<{ n: string }>('SELECT count(DISTINCT tenant) AS n FROM event_streams')).n);
    console.log(`Scale benchmark: ${out.machine}`);
    console.log(`Log: ${fmt(head)} events, ${tenants} municipalities, database ${(size / 2 ** 20).toFixed(0)} MB\n`);
    Object.assign(out, { events: head, municipalities: tenants, databaseBytes: size });

    // 1. catch-up: async projections build from the imported log; new inline ones are built from
    //    the log too before they go live (the import did not write them).
    const catchUpStarted = performance.now();
    const positionsAtStart = await positions(pool);
    const caughtUp = new Map<string, number>();
    for (;;) {
      const status = await engine.status();
      for (const s of status) {
        const done = s.live !== null && s.rebuild === null && (s.kind === 'inline' || s.live.lagEvents === 0);
        if (done && !caughtUp.has(s.name)) caughtUp.set(s.name, (performance.now() - catchUpStarted) / 1000);
      }
      if (status.every((s) => caughtUp.has(s.name) || skip.has(s.name))) break;
      if (performance.now() - catchUpStarted > 6 * 3600_000) throw new Error('catch-up took more than 6 hours');
      await sleep(250);
    }
    const catchUp = (performance.now() - catchUpStarted) / 1000;
    console.log(`Catch-up after the import (all projections built from the log, concurrently): ${catchUp.toFixed(1)} s (start-up ${((catchUpStarted - started) / 1000).toFixed(1)} s)`);
    for (const [name, seconds] of [...caughtUp].sort((a, b) => a[1] - b[1])) console.log(`  ${name.padEnd(28)} ${seconds.toFixed(1).padStart(8)} s`);
    const positionsAtEnd = await positions(pool);
    for (const name of skip) {
      const moved = (positionsAtEnd.get(name) ?? 0) - (positionsAtStart.get(name) ?? 0);
      console.log(`  ${name.padEnd(28)} skipped: at ${fmt(positionsAtEnd.get(name) ?? 0)} of ${fmt(head)}, ${fmt(moved / catchUp)} events/s meanwhile`);
    }
    out.catchUpSeconds = catchUp;
    out.catchUp = Object.fromEntries(caughtUp);

    // 2. rebuilds, one at a time
    const rebuilds: { name: string; kind: string; seconds: number; eventsPerSecond: number }[] = [];
    if (rebuildMode !== 'none') {
      const all = engine.projections().sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'inline' ? -1 : 1));
      for (const p of all.filter((x) => (rebuildMode === 'all' || x.kind === 'inline') && !skip.has(x.name))) {
        const t = performance.now();
        const build = await engine.rebuild(p.name);
        for (;;) {
          const live = await one<{ schema_name: string } | undefined>(`SELECT schema_name FROM projections WHERE name = $1 AND state = 'live'`, [p.name]);
          if (live?.schema_name === build.schema) break;
          await sleep(100);
        }
        const seconds = (performance.now() - t) / 1000;
        rebuilds.push({ name: p.name, kind: p.kind, seconds, eventsPerSecond: head / seconds });
        console.log(`Rebuild ${p.name.padEnd(28)} (${p.kind.padEnd(6)}) ${seconds.toFixed(1).padStart(8)} s  ${fmt(head / seconds).padStart(10)} events/s of the whole log`);
      }
    }
    out.rebuilds = rebuilds;

    // Projections update rows in place; without autovacuum (some test servers turn it off) dead
    // rows and missing statistics would be measured instead of the queries.
    const autovacuum = (await one<{ autovacuum: string }>('SHOW autovacuum')).autovacuum;
    const vacuumStarted = performance.now();
    await pool.query('VACUUM (ANALYZE)');
    const vacuum = (performance.now() - vacuumStarted) / 1000;
    console.log(`\nVACUUM (ANALYZE) of the database before the queries: ${vacuum.toFixed(1)} s (autovacuum ${autovacuum})`);
    Object.assign(out, { autovacuum, vacuumSeconds: vacuum });

    // 3. query latencies in the largest municipality
    const code = (await one<{ tenant: string }>(`SELECT tenant FROM event_streams WHERE stream_id LIKE 'case-%' GROUP BY tenant ORDER BY count(*) DESC LIMIT 1`)).tenant;
    const cases = Number((await one<{ n: string }>(`SELECT count(*) AS n FROM event_streams WHERE tenant = $1 AND stream_id LIKE 'case-%'`, [code])).n);
    const caseIds = (await pool.query<{ stream_id: string }>(`SELECT stream_id FROM event_streams WHERE tenant = $1 AND stream_id LIKE 'case-%' ORDER BY md5(stream_id) LIMIT 200`, [code])).rows.map(
      (r) => caseIdOfStream(r.stream_id)!,
    );
    const token = (role: Role) => signDevToken(config.auth.jwtSecret!, { sub: `bench-${role}`, roles: [role], municipalities: [code] });
    const tokens = { caseworker: await token('caseworker'), process_owner: await token('process_owner'), evaluator: await token('evaluator') };
    const api = `${base}/api/v1`;
    const m = `/municipalities/${code}`;
    const roundsResponse = await fetch(`${api}${m}/rounds`, { headers: { authorization: `Bearer ${tokens.process_owner}` } });
    const rounds = ((await roundsResponse.json()) as { items: { id: string; status: string; referenceDate: string }[] }).items.sort((a, b) => a.referenceDate.localeCompare(b.referenceDate));
    const closed = rounds.filter((r) => r.status === 'closed');
    const [r1, r2] = [closed[closed.length - 2]?.id, closed[closed.length - 1]?.id];
    const year = Number(new Date().toISOString().slice(0, 4)) - 1;
    console.log(`\nQueries in municipality ${code} (${fmt(cases)} cases, ${rounds.length} rounds), ${queries} requests each, one at a time:`);
    let k = 0;
    const endpoints: { name: string; role: keyof typeof tokens; path: () => string; n?: number }[] = [
      { name: 'GET /rounds', role: 'process_owner', path: () => `${m}/rounds` },
      { name: 'GET /cases?status=open&limit=50', role: 'caseworker', path: () => `${m}/cases?status=open&limit=50` },
      { name: 'GET /cases/{id}', role: 'caseworker', path: () => `${m}/cases/${caseIds[k++ % caseIds.length]}` },
      { name: 'GET /cases/{id}/history', role: 'caseworker', path: () => `${m}/cases/${caseIds[k++ % caseIds.length]}/history` },
      { name: 'GET /rounds/{id}/statistics?by=gender,unit', role: 'process_owner', path: () => `${m}/rounds/${r2}/statistics?by=gender,unit` },
      { name: 'GET /rounds/{id}/crosstab', role: 'process_owner', path: () => `${m}/rounds/${r2}/crosstab?rows=mentalHealth&columns=gender` },
      { name: 'GET /rounds/{id}/snapshot (caseworker)', role: 'caseworker', path: () => `${m}/rounds/${r2}/snapshot`, n: Math.min(queries, 10) },
      { name: 'GET /rounds/compare', role: 'process_owner', path: () => `${m}/rounds/compare?from=${r1}&to=${r2}` },
      { name: 'GET /flows', role: 'process_owner', path: () => `${m}/flows?fromRound=${r1}&toRound=${r2}` },
      { name: 'GET /flows/journeys (last 4 rounds)', role: 'process_owner', path: () => `${m}/flows/journeys?rounds=${closed.slice(-4).map((r) => r.id).join(',')}` },
      { name: `GET /reports/benefit-duration?year=${year}`, role: 'process_owner', path: () => `${m}/reports/benefit-duration?year=${year}` },
      { name: 'GET /reports/support-by-gender', role: 'process_owner', path: () => `${m}/reports/support-by-gender?roundId=${r2}` },
      { name: 'GET /exports/panel (ndjson, whole municipality)', role: 'evaluator', path: () => `/exports/panel?municipalities=${code}&format=ndjson`, n: Math.min(queries, 3) },
    ];
    const results: { name: string; status: string; n: number; p50: number; p95: number; max: number; bytes: number }[] = [];
    for (const e of endpoints) {
      const times: number[] = [];
      const statuses = new Set<number>();
      let bytes = 0;
      const n = e.n ?? queries;
      for (let i = 0; i <= n; i++) {
        const url = `${api}${e.path()}`;
        const t = performance.now();
        const r = await fetch(url, { headers: { authorization: `Bearer ${tokens[e.role]}` } });
        const body = await r.arrayBuffer();
        const ms = performance.now() - t;
        statuses.add(r.status);
        bytes = body.byteLength;
        if (i > 0) times.push(ms); // the first request warms caches and prepared statements
      }
      times.sort((a, b) => a - b);
      const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
      const row = { name: e.name, status: [...statuses].join('/'), n, p50: q(0.5), p95: q(0.95), max: times[times.length - 1]!, bytes };
      results.push(row);
      console.log(`  ${row.name.padEnd(48)} ${row.status.padEnd(8)} p50 ${row.p50.toFixed(1).padStart(8)} ms  p95 ${row.p95.toFixed(1).padStart(8)} ms  max ${row.max.toFixed(1).padStart(8)} ms  ${fmt(row.bytes).padStart(11)} B`);
    }
    out.queries = { municipality: code, cases, rounds: rounds.length, results };
    if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(out, null, 2));
  } finally {
    await running.close();
  }
}

/** Position of the most advanced build of each projection. */
async function positions(pool: import('pg').Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ name: string; position: string }>('SELECT name, max(position) AS position FROM projections GROUP BY name');
  return new Map(rows.map((r) => [r.name, Number(r.position)]));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
