import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database.js';
import { caseDecider } from '../cases/case.decider.js';
import { asCaseEvents, type CaseEvent } from '../cases/case.events.js';
import { fold } from '../shared/domain/decider.js';
import { PostgresEventStore } from '../shared/event-store/postgres/postgres-event-store.js';
import { PersonVault } from '../shared/privacy/vault.js';
import { streams } from '../shared/streams.js';
import { municipalitySizes, simulate } from './bulk-simulator.js';

describe('bulk simulator (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: PostgresEventStore;
  let vault: PersonVault;

  beforeAll(async () => {
    db = await createTestDatabase('bulksim');
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    // An idle client terminated from outside (e.g. a forced DROP DATABASE at teardown) must not crash the suite.
    pool.on('error', () => undefined);
    store = await PostgresEventStore.create(pool);
    vault = new PersonVault(pool, { masterKey: randomBytes(32), pseudonymKey: randomBytes(32) });
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  it('sizes municipalities to the requested number of people, a few large and many small', () => {
    const realistic = municipalitySizes({ municipalities: 290, persons: 400_000, sizes: 'realistic' });
    expect(realistic.reduce((a, b) => a + b, 0)).toBe(400_000);
    expect(realistic[0]! / 400_000).toBeGreaterThan(0.05);
    expect(realistic[0]! / 400_000).toBeLessThan(0.1);
    expect(realistic[289]).toBeGreaterThan(100);
    expect(municipalitySizes({ municipalities: 3, persons: 10, sizes: 'equal' })).toEqual([4, 3, 3]);
  });

  it('imports two municipalities in small batches, in timeline order, with every person in the vault', async () => {
    const progress: string[] = [];
    const figures = await simulate(
      { store, vault, onProgress: (p) => progress.push(p.municipality) },
      { municipalities: 2, persons: 300, years: 1.5, seed: 5, today: '2026-05-20', sizes: 'equal', batchEvents: 2000 },
    );
    expect(progress).toEqual(['9001', '9002']);
    const count = Number((await pool.query('SELECT count(*) AS n FROM event_log')).rows[0].n);
    expect(count).toBe(figures.events);
    expect(figures.events).toBeGreaterThan(10_000);
    const byType = await pool.query<{ type: string; n: string }>('SELECT type, count(*) AS n FROM event_log GROUP BY type');
    expect(Object.fromEntries(byType.rows.map((r) => [r.type, Number(r.n)]))).toEqual(figures.eventsByType);
    // People: about what was asked, each with a key and an encrypted personnummer.
    expect(figures.persons).toBeGreaterThan(200);
    expect(figures.persons).toBeLessThan(450);
    expect(Number((await pool.query('SELECT count(*) AS n FROM persons').then((r) => r.rows[0].n)))).toBe(figures.persons);

    // Three rounds a municipality, two closed; each RoundClosed after every assessment of its round.
    for (const code of ['9001', '9002']) {
      const rounds = await store.readStream(streams.rounds(code));
      expect(rounds.map((e) => e.type)).toEqual(['RoundOpened', 'RoundClosed', 'RoundOpened', 'RoundClosed', 'RoundOpened']);
      for (const closed of rounds.filter((e) => e.type === 'RoundClosed')) {
        const roundId = (closed.data as { roundId: string }).roundId;
        const { rows } = await pool.query<{ max: string; n: string }>(
          `SELECT max(position) AS max, count(*) AS n FROM event_log WHERE tenant = $1 AND type = 'AssessmentRecorded' AND data->>'roundId' = $2`,
          [code, roundId],
        );
        expect(Number(rows[0]!.n)).toBeGreaterThan(50);
        expect(Number(rows[0]!.max)).toBeLessThan(closed.position);
      }
    }

    // A case stream reads back and folds; its reasons decrypt with the person's key.
    const { rows: sample } = await pool.query<{ stream_id: string }>(
      `SELECT stream_id FROM event_log WHERE tenant = '9001' AND type = 'CaseTransferred' AND data->>'reasonCiphertext' IS NOT NULL LIMIT 1`,
    );
    const events = asCaseEvents(await store.readStream(sample[0]!.stream_id)) as unknown as CaseEvent[];
    const state = fold(caseDecider, events);
    expect(state.status).not.toBe('not_registered');
    if (state.status === 'not_registered') return;
    const transfer = events.find((e) => e.type === 'CaseTransferred' && e.data.reasonCiphertext !== null)!;
    const reason = await vault.decryptFor('9001', state.pseudonym, (transfer.data as { reasonCiphertext: string }).reasonCiphertext);
    expect(typeof reason).toBe('string');
    expect(await vault.revealPin('9001', state.pseudonym)).toMatch(/^\d{12}$/);
  });
});
