import 'reflect-metadata';
import { existsSync, mkdtempSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

// Jest loads the global setup through a CommonJS require hook that ignores moduleNameMapper,
// so the `.js` specifiers of our ESM sources are mapped to their `.ts` files here.
const M = Module as unknown as { _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string };
const resolve = M._resolveFilename;
M._resolveFilename = function (request, parent, ...rest) {
  if (request.startsWith('.') && request.endsWith('.js') && parent?.filename) {
    const ts = path.resolve(path.dirname(parent.filename), request.slice(0, -3) + '.ts');
    if (existsSync(ts)) return ts;
  }
  return resolve.call(this, request, parent, ...rest);
};

/**
 * Without DATABASE_URL the tests start their own embedded PostgreSQL (as `npm start` does);
 * with it, they create their databases on that server. Either way one template database is
 * migrated here, and each suite copies it.
 */
export default async function globalSetup(): Promise<void> {
  const { createDataSource, migrate } = await import('../../src/shared/database/database.js');
  const { startEmbeddedPostgres } = await import('../../src/shared/database/embedded-postgres.js');
  const { withDatabase } = await import('./test-database.js');
  const runId = `vt${Date.now().toString(36)}${process.pid}`;
  let admin = process.env.DATABASE_URL;
  if (!admin) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagen-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dir, preferredPort: 0 || 55432, database: 'postgres' });
    (globalThis as { __vagenEmbedded?: unknown }).__vagenEmbedded = { embedded, dir };
    admin = embedded.url;
    console.log(`\n[test] embedded PostgreSQL on port ${embedded.port} (${dir})`);
  }
  const template = `${runId}_template`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE "${template}"`);
  await client.end();
  const ds = createDataSource(withDatabase(admin, template), 2);
  await ds.initialize();
  await migrate(ds);
  await ds.destroy();
  process.env.VAGEN_TEST_ADMIN_URL = admin;
  process.env.VAGEN_TEST_TEMPLATE = template;
  process.env.VAGEN_TEST_RUN_ID = runId;
}
