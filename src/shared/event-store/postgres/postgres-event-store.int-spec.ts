import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { Metrics } from '../../observability/metrics.js';
import { eventStoreContract } from '../event-store.contract.js';
import { PostgresEventStore } from './postgres-event-store.js';

eventStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('eventstore');
  const pool = new pg.Pool({ connectionString: db.url, max: 10 });
  const store = await PostgresEventStore.create(pool, new Metrics(false));
  return {
    store,
    transactionalInline: true,
    async close() {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
}, { uniqueEventIdsAcrossStreams: true });
