import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { migrations } from './migrations/index.js';

/**
 * The one DataSource of the service. TypeORM runs the versioned migrations and serves the
 * read-model entities; hot paths (the event store, projections) use the same `pg` pool directly.
 */
export function createDataSource(url: string, poolSize: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: [],
    migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, idleTimeoutMillis: 30_000, application_name: 'vagen' },
  });
}

/** The pg Pool that TypeORM's postgres driver holds: one pool for everything. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

/** Arbitrary but fixed: serialises migration runs of several instances starting at once. */
const MIGRATION_LOCK = 7_271_900_001;

/** Runs pending migrations under an advisory lock, so two instances starting together cannot race. */
export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
