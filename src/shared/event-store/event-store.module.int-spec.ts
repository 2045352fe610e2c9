import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

describe('EventStoreModule in the running service', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'esmodule' });
  });
  afterAll(() => t?.close());

  it('provides the PostgreSQL store on the shared pool, counts appends in /metrics, and closes without ending the pool', async () => {
    const store = t.running.app.get<EventStore>(EVENT_STORE);
    expect(store).toBeInstanceOf(PostgresEventStore);
    const r = await store.append('module-check-1', [{ type: 'CaseRegistered', data: {}, metadata: { actor: 'test' } }], { expectedVersion: 'no_stream', tenant: '2281' });
    const { rows } = await t.pool.query('SELECT stream_id, version FROM events WHERE position = $1', [r.lastPosition]);
    expect(rows).toEqual([{ stream_id: 'module-check-1', version: 1 }]);
    const metrics = await t.running.metrics.registry.metrics();
    expect(metrics).toMatch(/vagen_events_appended_total 1/);
    expect(metrics).toMatch(/vagen_event_store_reader_stall_seconds 0/);

    await store.close();
    // The pool still belongs to TypeORM and still works.
    expect((await t.running.dataSource.query('SELECT 1 AS one'))[0].one).toBe(1);
  });
});
