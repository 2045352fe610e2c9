import { rmSync } from 'node:fs';
import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const admin = process.env.VAGEN_TEST_ADMIN_URL;
  const runId = process.env.VAGEN_TEST_RUN_ID;
  if (admin && runId) {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${runId}\\_%`]);
    for (const r of rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`).catch(() => undefined);
    await c.end();
  }
  const e = (globalThis as { __vagenEmbedded?: { embedded: { stop(): Promise<void> }; dir: string } }).__vagenEmbedded;
  if (e) {
    await e.embedded.stop();
    rmSync(e.dir, { recursive: true, force: true });
  }
}
