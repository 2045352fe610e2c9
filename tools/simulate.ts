/**
 * National-scale event log: `npm run simulate -- --municipalities 290 --persons 400000 --years 10`
 *
 * Generates municipalities like the demo's (src/demo/municipality.generator.ts), plays every
 * command through the pure deciders and writes the events with the store's bulk import, so the
 * log has exactly the shapes the API writes. Prints progress and figures (events, people, disk,
 * append rate). Measure projections and queries on the result with `npm run bench:scale`.
 *
 * Options (all optional):
 *   --municipalities N   default 1
 *   --persons N          people over the whole period, all municipalities (default 1100)
 *   --years N            years of half-yearly rounds (default 10; the last round stays open)
 *   --sizes equal|realistic   default: equal for fewer than 20 municipalities, else realistic
 *   --seed N             default 1
 *   --first-code N       first kommunkod (default 9001; codes 9xxx belong to no real municipality)
 *   --today YYYY-MM-DD   the last simulated day (default today in Stockholm)
 *   --batch-events N     events per bulk import (default 20000)
 *
 * Database: DATABASE_URL, or the embedded PostgreSQL of `npm start` (same data dir and dev
 * secrets, so the service shows the simulated municipalities afterwards). Refuses to write into
 * municipalities that already have events.
 */
import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { resolveSecrets } from '../src/config/dev-secrets.js';
import { simulate, type SimulationOptions } from '../src/demo/bulk-simulator.js';
import { createDataSource, migrate, poolOf } from '../src/shared/database/database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/shared/database/embedded-postgres.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/postgres-event-store.js';
import { PersonVault } from '../src/shared/privacy/vault.js';
import { stockholmDate } from '../src/shared/time/calendar.js';

class UsageError extends Error {}

function parseArgs(argv: string[]): SimulationOptions {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unexpected argument ${a}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    args.set(m[1]!, value);
  }
  const known = ['municipalities', 'persons', 'years', 'sizes', 'seed', 'first-code', 'today', 'batch-events'];
  for (const k of args.keys()) if (!known.includes(k)) throw new UsageError(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(', ')})`);
  const int = (name: string, fallback: number, min: number) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  const municipalities = int('municipalities', 1, 1);
  const years = Number(args.get('years') ?? 10);
  if (!(years >= 0.5 && years <= 30)) throw new UsageError('--years must be between 0.5 and 30');
  const sizes = args.get('sizes') ?? (municipalities < 20 ? 'equal' : 'realistic');
  if (sizes !== 'equal' && sizes !== 'realistic') throw new UsageError('--sizes must be equal or realistic');
  const today = args.get('today') ?? stockholmDate();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new UsageError('--today must be YYYY-MM-DD');
  return {
    municipalities,
    persons: int('persons', 1100, municipalities * 10),
    years,
    sizes,
    seed: int('seed', 1, 0),
    firstCode: int('first-code', 9001, 1000),
    today,
    batchEvents: int('batch-events', 20_000, 100),
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  let config = resolveSecrets(loadConfig());
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'pg'), preferredPort: config.embeddedPgPort });
    config = { ...config, databaseUrl: embedded.url };
    console.log(`Embedded PostgreSQL on port ${embedded.port} (data in ${path.join(config.dataDir, 'pg')})`);
  }
  const dataSource = createDataSource(config.databaseUrl!, 12);
  await dataSource.initialize();
  try {
    await migrate(dataSource);
    const pool = poolOf(dataSource);
    const codes = Array.from({ length: options.municipalities }, (_, i) => String(options.firstCode! + i));
    const taken = await pool.query<{ tenant: string }>('SELECT DISTINCT tenant FROM event_streams WHERE tenant = ANY($1)', [codes]);
    if (taken.rows.length > 0) throw new UsageError(`municipalities ${taken.rows.map((r) => r.tenant).join(', ')} already have events: use another --first-code or a fresh database`);
    const store = await PostgresEventStore.create(pool);
    const vault = new PersonVault(pool, { masterKey: config.masterKey, pseudonymKey: config.pseudonymKey });
    const size = async () => Number((await pool.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0]!.s);
    const before = await size();
    const eventsBefore = Number((await pool.query<{ n: string }>('SELECT (SELECT count(*) FROM events) + (SELECT coalesce(sum(last_position - first_position + 1), 0) FROM event_chunks) AS n')).rows[0]!.n);

    console.log(
      `Simulating ${options.municipalities} municipalit${options.municipalities === 1 ? 'y' : 'ies'} (${options.sizes} sizes), ${fmt(options.persons)} people, ` +
        `${options.years} years of rounds up to ${options.today}, seed ${options.seed}, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}`,
    );
    let lastPrint = 0;
    const figures = await simulate(
      {
        store,
        vault,
        onProgress: (p) => {
          if (p.elapsedMs - lastPrint < 5000 && p.index !== p.municipalities) return;
          lastPrint = p.elapsedMs;
          const rss = process.memoryUsage().rss;
          console.log(
            `  ${p.index}/${p.municipalities} municipalities, ${fmt(p.persons)} people, ${fmt(p.events)} events, ` +
              `${(p.elapsedMs / 1000).toFixed(0)} s, ${fmt(p.events / (p.elapsedMs / 1000))} events/s, rss ${mb(rss)}`,
          );
        },
      },
      options,
    );
    await store.close();
    const after = await size();
    const tables = await pool.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 5`,
    );
    const seconds = figures.elapsedMs / 1000;
    console.log('\nFigures');
    console.log(`  municipalities        ${fmt(figures.municipalities)}`);
    console.log(`  people (cases)        ${fmt(figures.persons)}`);
    console.log(`  streams               ${fmt(figures.streams)}`);
    console.log(`  events                ${fmt(figures.events)} (positions ${figures.firstPosition}–${figures.lastPosition}; ${fmt(eventsBefore)} were there before)`);
    for (const [type, n] of Object.entries(figures.eventsByType).sort((a, b) => b[1] - a[1])) console.log(`    ${type.padEnd(22)}${fmt(n).padStart(14)}`);
    console.log(`  wall time             ${seconds.toFixed(1)} s → ${fmt(figures.events / seconds)} events/s end to end`);
    console.log(`  bulk import           ${(figures.appendMs / 1000).toFixed(1)} s inside appendBulk → ${fmt(figures.events / (figures.appendMs / 1000))} events/s (waited ${(figures.appendWaitMs / 1000).toFixed(1)} s; the rest overlapped generation)`);
    console.log(`  vault registrations   ${(figures.vaultMs / 1000).toFixed(1)} s`);
    console.log(`  database size         ${mb(before)} → ${mb(after)} (+${mb(after - before)}, ${((after - before) / Math.max(1, figures.events)).toFixed(0)} bytes per event incl. indexes and vault)`);
    for (const t of tables.rows) console.log(`    ${t.name.padEnd(22)}${mb(Number(t.bytes)).padStart(14)}`);
    console.log(`  peak rss              ${mb(process.resourceUsage().maxRSS * 1024)}`);
    console.log('\nNext: npm run bench:scale (projection catch-up and rebuild, query latencies on this data).');
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(`simulate: ${e.message}`);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
