import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { AccessLog } from '../../src/shared/privacy/access-log.js';
import { PersonVault } from '../../src/shared/privacy/vault.js';
import { describeHits, scanForClearText } from '../support/pii-scan.js';
import { makePersonnummer, personnummerVariants } from '../support/personnummer.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('scanForClearText (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const leaked = makePersonnummer('1980-04-04', 404);
  const hyphenated = `${leaked.slice(0, 8)}-${leaked.slice(8)}`;
  const clean = makePersonnummer('1981-05-05', 505);

  beforeAll(async () => {
    db = await createTestDatabase('piiscan');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    // pool.end() resolves before the sockets have closed; db.drop() (WITH FORCE) may then terminate
    // one, which the pool reports as an error. Harmless at teardown.
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('finds a needle in every kind of column, schema and materialized view, and nothing else', async () => {
    await pool.query(`
      CREATE SCHEMA "Other";
      CREATE TABLE "Other"."odd ""name""" (id int, "free text" varchar(200), note text);
      INSERT INTO "Other"."odd ""name""" VALUES (1, 'Ringde ${hyphenated} idag', 'nothing'), (2, 'och igen ${hyphenated}', NULL);
      CREATE TABLE public.leaks (id int, payload jsonb, tags text[], number bigint, raw bytea, plain json, fine text);
      INSERT INTO public.leaks VALUES
        (1, '{"person": {"pin": "${leaked}"}}', NULL, NULL, NULL, NULL, 'ok'),
        (2, NULL, ARRAY['a', '${leaked}'], NULL, NULL, NULL, 'ok'),
        (3, NULL, NULL, ${leaked}, convert_to('pnr=${leaked};', 'UTF8'), '["${leaked.slice(2)}"]', 'ok');
      CREATE MATERIALIZED VIEW public.leaky_view AS SELECT 'x ' || '${leaked}' AS summary;
    `);
    const hits = await scanForClearText(pool, [...personnummerVariants(leaked), ...personnummerVariants(clean)]);
    const found = hits.map((h) => `${h.schema}.${h.table}.${h.column} ${h.needle} ×${h.rows}`).sort();
    expect(found).toEqual(
      [
        `Other.odd "name".free text ${hyphenated} ×2`,
        `Other.odd "name".free text ${hyphenated.slice(2)} ×2`, // the 10-digit form is inside the 12
        `public.leaks.payload ${leaked} ×1`,
        `public.leaks.payload ${leaked.slice(2)} ×1`,
        `public.leaks.tags ${leaked} ×1`,
        `public.leaks.tags ${leaked.slice(2)} ×1`,
        `public.leaks.number ${leaked} ×1`,
        `public.leaks.number ${leaked.slice(2)} ×1`,
        `public.leaks.raw ${leaked} ×1`,
        `public.leaks.raw ${leaked.slice(2)} ×1`,
        `public.leaks.plain ${leaked.slice(2)} ×1`,
        `public.leaky_view.summary ${leaked} ×1`,
        `public.leaky_view.summary ${leaked.slice(2)} ×1`,
      ].sort(),
    );
    expect(hits.find((h) => h.column === 'free text')!.sample).toContain(hyphenated);
    expect(describeHits(hits)).toContain('public.leaks.payload');
  });

  it('finds nothing after the vault and the access log have handled the same numbers', async () => {
    await pool.query('DROP SCHEMA "Other" CASCADE; DROP TABLE public.leaks CASCADE');
    const people = [makePersonnummer('1990-10-10', 10), makePersonnummer('1991-11-11', 11, { coordination: true })];
    const vault = new PersonVault(pool, { masterKey: randomBytes(32), pseudonymKey: randomBytes(32) });
    const log = new AccessLog(pool, 365);
    for (const pin of people) {
      const p = await vault.registerPerson('2281', pin);
      await vault.encryptFor('2281', p, `Anteckning om ${pin}`);
      await log.record({
        municipality: '2281',
        userId: 'u1',
        roles: ['caseworker'],
        caseId: 'c1',
        pseudonym: p,
        endpoint: `GET /api/v1/municipalities/2281/cases?person=${pin}`,
        purpose: `asked about ${pin.slice(0, 8)}-${pin.slice(8)}`,
      });
    }
    const hits = await scanForClearText(pool, people.flatMap(personnummerVariants));
    expect(describeHits(hits)).toBe('');
    // The scan is not blind to these tables: a clear-text row there would be found.
    await pool.query("UPDATE access_log SET purpose = purpose || $1 WHERE id = (SELECT min(id) FROM access_log)", [people[0]]);
    expect((await scanForClearText(pool, [people[0]!])).map((h) => `${h.table}.${h.column}`)).toEqual(['access_log.purpose']);
  });

  it('refuses empty needles and answers nothing for none', async () => {
    await expect(scanForClearText(pool, [''])).rejects.toThrow(/non-empty/);
    expect(await scanForClearText(pool, [])).toEqual([]);
  });
});
