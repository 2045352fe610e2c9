import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { caseListProjection } from '../../cases/projections/case-list.projection.js';
import { openCasesProjection } from '../../cases/projections/open-cases.projection.js';
import { DomainError } from '../../shared/domain/domain-error.js';
import type { StoredEvent } from '../../shared/event-store/event-store.port.js';
import type { Projection } from '../../shared/projections/projection.js';
import { erasedCasesProjection } from './erased-cases.projection.js';
import { PERSON_ERASED } from './person-erased.event.js';

/**
 * How the read models handle PersonErased, applied straight to their tables (real PostgreSQL):
 * the erased cases' rows go, applying the same events again changes nothing, and the
 * erased_cases guard refuses any further event of an erased case.
 */
describe('PersonErased in the read models (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const A = '00000000-0000-4000-8000-00000000000a';
  const B = '00000000-0000-4000-8000-00000000000b';
  let position = 0;

  const stored = (stream: string, type: string, data: Record<string, unknown>, version = 1): StoredEvent => ({
    id: `00000000-0000-4000-8000-${String(++position).padStart(12, '0')}`,
    stream,
    tenant: '2281',
    version,
    position,
    type,
    schemaVersion: 1,
    data,
    metadata: { actor: 'test', effectiveDate: '2026-01-15' },
    recordedAt: new Date('2026-01-15T10:00:00Z'),
  });
  const registered = (caseId: string, pseudonym: string) =>
    stored(`case-2281-${caseId}`, 'CaseRegistered', { caseId, pseudonym, birthYear: 1985, gender: 'female', bornAbroad: 'no', childrenInHousehold: 0, unit: 'vuxenstod' });
  const erased = (pseudonym: string, caseIds: string[]) => stored('erasures-2281', PERSON_ERASED, { pseudonym, caseIds, basis: 'request', reasonHash: 'ab'.repeat(32) });

  /** Runs setup (once) and apply in a schema of the projection's own, as the engine does. */
  async function inSchema<T>(p: Projection, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [`t_${p.name}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS t_${p.name}; SET LOCAL search_path = t_${p.name}, public`);
      if (!rowCount) await p.setup(client);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    } finally {
      client.release();
    }
  }
  const apply = (p: Projection, events: StoredEvent[]) => inSchema(p, (tx) => p.apply(tx, events.filter((e) => p.handles.includes(e.type))));
  const rows = (p: Projection, sql: string) => inSchema(p, async (tx) => (await tx.query(sql)).rows);

  beforeAll(async () => {
    db = await createTestDatabase('personerased');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('case_list drops the erased cases, also when the same batch is applied again', async () => {
    const batch = [registered(A, 'p-a'), registered(B, 'p-b'), erased('p-a', [A])];
    await apply(caseListProjection, batch);
    await apply(caseListProjection, batch);
    expect(await rows(caseListProjection, 'SELECT case_id::text, pseudonym FROM case_list ORDER BY case_id')).toEqual([{ case_id: B, pseudonym: 'p-b' }]);
  });

  it('open_cases and case_persons drop the erased cases, so the person may be registered anew', async () => {
    const batch = [registered(A, 'p-a'), registered(B, 'p-b')];
    await apply(openCasesProjection, batch);
    await apply(openCasesProjection, [erased('p-a', [A])]);
    await apply(openCasesProjection, [erased('p-a', [A])]);
    expect(await rows(openCasesProjection, 'SELECT case_id::text FROM case_persons ORDER BY 1')).toEqual([{ case_id: B }]);
    expect(await rows(openCasesProjection, 'SELECT case_id::text, pseudonym FROM open_cases ORDER BY 1')).toEqual([{ case_id: B, pseudonym: 'p-b' }]);
    const C = '00000000-0000-4000-8000-00000000000c';
    await apply(openCasesProjection, [registered(C, 'p-a')]);
    expect(await rows(openCasesProjection, `SELECT case_id::text FROM open_cases WHERE pseudonym = 'p-a'`)).toEqual([{ case_id: C }]);
  });

  it('erased_cases records each erased case once and refuses any later event of it', async () => {
    await apply(erasedCasesProjection, [erased('p-a', [A])]);
    await apply(erasedCasesProjection, [erased('p-a', [A])]);
    expect(await rows(erasedCasesProjection, 'SELECT case_id::text, municipality FROM erased_cases')).toEqual([{ case_id: A, municipality: '2281' }]);
    const late = stored(`case-2281-${A}`, 'CaseClosed', { reason: 'moved', fromUnit: 'vuxenstod' }, 2);
    const refused = await apply(erasedCasesProjection, [late]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ kind: 'not_found', slug: 'case-not-found' });
    // Other cases, and registrations (not even handled), go through.
    await apply(erasedCasesProjection, [stored(`case-2281-${B}`, 'CaseClosed', { reason: 'moved', fromUnit: 'vuxenstod' }, 2)]);
    expect(erasedCasesProjection.handles).not.toContain('CaseRegistered');
  });
});
