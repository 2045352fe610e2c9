import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { DomainError } from '../domain/domain-error.js';
import { CoalescingExecutor, sendWithNext } from './coalescing-executor.js';
import { refusalOf } from './refusal.js';

/** A guard's refusal raised in PostgreSQL (public.vagen_refuse) comes back as the DomainError. */
describe('refusals raised in the database', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('refusal');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('turns back into the DomainError, with kind, slug, message and details', async () => {
    const err = await pool
      .query(`SELECT public.vagen_refuse('conflict', 'person-has-open-case', 'Already open (x).', json_build_object('caseId', 'x'))`)
      .catch((e: unknown) => e);
    const refusal = refusalOf(err);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ kind: 'conflict', slug: 'person-has-open-case', message: 'Already open (x).', details: { caseId: 'x' }, httpStatus: 409 });
    expect(refusalOf(new Error('x'))).toBeUndefined();
    expect(refusalOf(await pool.query('SELECT 1/0').catch((e: unknown) => e))).toBeUndefined();
  });

  it('held with the next statement, fails that statement and with it the transaction: nothing is written', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS refusal_probe (n int)');
    const client = await pool.connect();
    try {
      const tx = new CoalescingExecutor(client);
      tx.hold('BEGIN');
      await sendWithNext(tx, `SELECT public.vagen_refuse('not_found', 'case-not-found', $1)`, ['Case not found.']);
      const err = await tx.query('INSERT INTO refusal_probe VALUES (1); COMMIT').catch((e: unknown) => e);
      await tx.idle();
      await client.query('ROLLBACK');
      expect(refusalOf(err)).toMatchObject({ kind: 'not_found', slug: 'case-not-found', httpStatus: 404 });
    } finally {
      client.release();
    }
    expect((await pool.query('SELECT count(*)::int AS n FROM refusal_probe')).rows[0].n).toBe(0);
  });
});
