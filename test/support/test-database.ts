import pg from 'pg';
import { randomBytes } from 'node:crypto';

/**
 * Per-suite databases: the global setup migrates one template database per test run; every
 * suite gets its own copy (`CREATE DATABASE … TEMPLATE`), which takes milliseconds.
 */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.VAGEN_TEST_ADMIN_URL;
  if (!url) throw new Error('VAGEN_TEST_ADMIN_URL is not set: run tests through jest (global setup)');
  return url;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

export async function createTestDatabase(label = 'suite'): Promise<TestDatabase> {
  const template = process.env.VAGEN_TEST_TEMPLATE!;
  const name = `${process.env.VAGEN_TEST_RUN_ID}_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (e) {
        // "source database is being accessed by other users": another suite is copying it right now.
        if (attempt > 50 || (e as { code?: string }).code !== '55006') throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), name);
  return {
    url,
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
