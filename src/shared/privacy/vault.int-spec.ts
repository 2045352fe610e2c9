import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { makePersonnummer, manyPersonnummer } from '../../../test/support/personnummer.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { isShredded, masterKeyId, PersonNotFound, PersonShredded, PersonVault, rotateMasterKey, SHREDDED, UnknownMasterKey } from './vault.js';

describe('PersonVault (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const masterKey = randomBytes(32);
  const pseudonymKey = randomBytes(32);
  const vault = (opts: ConstructorParameters<typeof PersonVault>[2] = {}, keys: Partial<ConstructorParameters<typeof PersonVault>[1]> = {}) =>
    new PersonVault(pool, { masterKey, pseudonymKey, ...keys }, opts);

  beforeAll(async () => {
    db = await createTestDatabase('vault');
    pool = new pg.Pool({ connectionString: db.url, max: 6 });
    // pool.end() resolves before the sockets have closed; db.drop() (WITH FORCE) may then terminate
    // one, which the pool reports as an error. Harmless at teardown.
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  describe('pseudonyms', () => {
    const pin = makePersonnummer('1985-03-12', 123);

    it('are stable, 26 base32 characters, and ignore the hyphen', () => {
      const p = vault().pseudonym('2281', pin);
      expect(p).toMatch(/^[a-z2-7]{26}$/);
      expect(vault().pseudonym('2281', pin)).toBe(p);
      expect(vault().pseudonym('2281', `${pin.slice(0, 8)}-${pin.slice(8)}`)).toBe(p);
    });

    it('differ between municipalities, people and pseudonym keys', () => {
      const p = vault().pseudonym('2281', pin);
      expect(vault().pseudonym('2262', pin)).not.toBe(p);
      expect(vault().pseudonym('2281', makePersonnummer('1985-03-12', 124))).not.toBe(p);
      expect(vault({}, { pseudonymKey: randomBytes(32) }).pseudonym('2281', pin)).not.toBe(p);
    });

    it('refuse anything but a 12-digit number and a four-digit municipality', () => {
      expect(() => vault().pseudonym('2281', pin.slice(2))).toThrow(/12-digit/);
      expect(() => vault().pseudonym('228', pin)).toThrow(/municipality/);
    });
  });

  describe('registering a person', () => {
    it('stores the personnummer only encrypted, and reveals it again', async () => {
      const pin = makePersonnummer('1990-01-02', 11);
      const v = vault();
      const p = await v.registerPerson('2281', pin);
      expect(p).toBe(v.pseudonym('2281', pin));
      const { rows } = await pool.query("SELECT k.wrapped_key, k.master_key_id, k.generation, p.pin_ciphertext FROM person_keys k JOIN persons p USING (municipality, pseudonym) WHERE pseudonym = $1", [p]);
      expect(rows).toHaveLength(1);
      expect(rows[0].pin_ciphertext).toMatch(/^v1\.1\./);
      expect(rows[0].pin_ciphertext).not.toContain(pin.slice(2));
      expect(rows[0].wrapped_key).toHaveLength(60);
      expect(rows[0].master_key_id).toBe(masterKeyId(masterKey));
      // A fresh instance (empty cache) reads it from the database.
      expect(await vault().revealPin('2281', p)).toBe(pin);
    });

    it('is idempotent: the second registration keeps the first key', async () => {
      const pin = makePersonnummer('1990-01-03', 12);
      const p = await vault().registerPerson('2281', pin);
      const envelope = await vault().encryptFor('2281', p, 'first');
      expect(await vault().registerPerson('2281', pin)).toBe(p);
      expect(await vault().decryptFor('2281', p, envelope)).toBe('first');
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM person_keys WHERE pseudonym = $1', [p]);
      expect(rows[0].n).toBe(1);
    });

    it('gives every concurrent registration the same person and key', async () => {
      const pin = makePersonnummer('1990-01-04', 13);
      const instances = Array.from({ length: 4 }, () => vault());
      const results = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const v = instances[i % 4]!;
          const p = await v.registerPerson('2281', pin);
          return { p, envelope: await v.encryptFor('2281', p, `note ${i}`) };
        }),
      );
      expect(new Set(results.map((r) => r.p)).size).toBe(1);
      const fresh = vault();
      for (const [i, r] of results.entries()) expect(await fresh.decryptFor('2281', r.p, r.envelope)).toBe(`note ${i}`);
    });

    it('keeps the same person apart in two municipalities', async () => {
      const pin = makePersonnummer('1990-01-05', 14);
      const a = await vault().registerPerson('2281', pin);
      const b = await vault().registerPerson('2262', pin);
      expect(a).not.toBe(b);
      const envelope = await vault().encryptFor('2281', a, 'x');
      await expect(vault().decryptFor('2262', a, envelope)).rejects.toThrow(PersonNotFound);
    });

    it('inside a rolled-back transaction leaves nothing, not even a cached key', async () => {
      const pin = makePersonnummer('1990-01-06', 15);
      const v = vault();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const p = await v.registerPerson('2281', pin, client);
        expect(await v.encryptFor('2281', p, 'inside', client)).toMatch(/^v1\./);
        expect(await v.revealPin('2281', p, client)).toBe(pin);
        await client.query('ROLLBACK');
        expect(await v.exists('2281', p)).toBe(false);
      } finally {
        client.release();
      }
      // Had `v` cached the rolled-back key, this envelope would be unreadable by anyone else.
      const p = await v.registerPerson('2281', pin);
      const envelope = await v.encryptFor('2281', p, 'after');
      expect(await vault().decryptFor('2281', p, envelope)).toBe('after');
    });
  });

  describe('free text', () => {
    let p: string;
    beforeAll(async () => {
      p = await vault().registerPerson('2281', makePersonnummer('1975-05-05', 200));
    });

    it('round-trips through an opaque envelope that hides the text', async () => {
      const text = 'Flyttar till Göteborg – ny adress 🏠';
      const envelope = await vault().encryptFor('2281', p, text);
      expect(envelope).toMatch(/^v1\.1\.[A-Za-z0-9_-]+$/);
      expect(envelope).not.toContain('Göteborg');
      expect(await vault().decryptFor('2281', p, envelope)).toBe(text);
      expect(await vault().encryptFor('2281', p, text)).not.toBe(envelope); // fresh IV every time
      expect(await vault().decryptFor('2281', p, await vault().encryptFor('2281', p, ''))).toBe('');
    });

    it("cannot be read as another person's, nor after tampering", async () => {
      const other = await vault().registerPerson('2281', makePersonnummer('1975-05-06', 201));
      const envelope = await vault().encryptFor('2281', p, 'secret');
      await expect(vault().decryptFor('2281', other, envelope)).rejects.toThrow();
      const body = envelope.split('.')[2]!;
      const flipped = `v1.1.${body.slice(0, -2)}${body.at(-2) === 'A' ? 'B' : 'A'}${body.at(-1)}`;
      await expect(vault().decryptFor('2281', p, flipped)).rejects.toThrow();
      await expect(vault().decryptFor('2281', p, 'not an envelope')).rejects.toThrow(/Not a vault envelope/);
    });

    it('needs a registered person', async () => {
      await expect(vault().encryptFor('2281', 'aaaaaaaaaaaaaaaaaaaaaaaaaa', 'x')).rejects.toThrow(PersonNotFound);
    });
  });

  describe('crypto-shredding', () => {
    it('makes text and personnummer unreadable, at once in this instance', async () => {
      const pin = makePersonnummer('1960-07-07', 300);
      const v = vault();
      const p = await v.registerPerson('2281', pin);
      const envelope = await v.encryptFor('2281', p, 'reason');
      expect(await v.decryptFor('2281', p, envelope)).toBe('reason'); // key now cached
      expect(await v.shred('2281', p)).toBe(true);
      expect(await v.decryptFor('2281', p, envelope)).toBe(SHREDDED);
      await expect(v.revealPin('2281', p)).rejects.toThrow(PersonShredded);
      await expect(v.encryptFor('2281', p, 'more')).rejects.toThrow(PersonShredded);
      expect(isShredded((await v.revealPins('2281', [p])).get(p))).toBe(true);
      const { rows } = await pool.query('SELECT k.wrapped_key, k.shredded_at, p.pin_ciphertext FROM person_keys k JOIN persons p USING (municipality, pseudonym) WHERE pseudonym = $1', [p]);
      expect(rows[0]).toMatchObject({ wrapped_key: null, pin_ciphertext: null });
      expect(rows[0].shredded_at).toBeInstanceOf(Date);
      expect(await v.shred('2281', p)).toBe(false);
      await expect(v.shred('2281', 'bbbbbbbbbbbbbbbbbbbbbbbbbb')).rejects.toThrow(PersonNotFound);
    });

    it('reaches other instances once their cached key expires', async () => {
      const other = vault({ cacheTtlMs: 100 });
      const p = await vault().registerPerson('2281', makePersonnummer('1960-07-08', 301));
      const envelope = await vault().encryptFor('2281', p, 'reason');
      expect(await other.decryptFor('2281', p, envelope)).toBe('reason');
      await vault().shred('2281', p);
      await new Promise((r) => setTimeout(r, 150));
      expect(await other.decryptFor('2281', p, envelope)).toBe(SHREDDED);
    });

    it('in a transaction: takes effect on commit, not on rollback', async () => {
      const v = vault();
      const p = await v.registerPerson('2281', makePersonnummer('1960-07-09', 302));
      const envelope = await v.encryptFor('2281', p, 'kept');
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await v.shred('2281', p, client);
        await client.query('ROLLBACK');
        expect(await v.decryptFor('2281', p, envelope)).toBe('kept');
        await client.query('BEGIN');
        await v.shred('2281', p, client);
        await client.query('COMMIT');
        expect(await v.decryptFor('2281', p, envelope)).toBe(SHREDDED);
      } finally {
        client.release();
      }
    });

    it('a person who comes back gets a new key; what was written before stays unreadable', async () => {
      const pin = makePersonnummer('1960-07-10', 303);
      const v = vault();
      const p = await v.registerPerson('2281', pin);
      const before = await v.encryptFor('2281', p, 'before');
      await v.shred('2281', p);
      expect(await v.registerPerson('2281', pin)).toBe(p);
      const after = await v.encryptFor('2281', p, 'after');
      expect(after).toMatch(/^v1\.2\./);
      for (const reader of [v, vault()]) {
        expect(await reader.decryptFor('2281', p, before)).toBe(SHREDDED);
        expect(await reader.decryptFor('2281', p, after)).toBe('after');
        expect(await reader.revealPin('2281', p)).toBe(pin);
      }
    });

    it('tells the key generation: 1 until the first shredding, then 2 once the person comes back', async () => {
      const pin = makePersonnummer('1960-07-12', 305);
      const v = vault();
      const p = await v.registerPerson('2281', pin);
      expect((await v.revealPersons('2281', [p])).get(p)).toEqual({ pin, generation: 1 });
      await v.shred('2281', p);
      expect((await v.revealPersons('2281', [p])).get(p)).toEqual({ pin: SHREDDED, generation: 1 });
      await v.registerPerson('2281', pin);
      for (const reader of [v, vault()]) expect((await reader.revealPersons('2281', [p])).get(p)).toEqual({ pin, generation: 2 });
    });

    it('another instance with a stale cached key reads what was written after the person came back, and writes with the current key', async () => {
      const pin = makePersonnummer('1960-07-11', 304);
      const stale = vault();
      const p = await stale.registerPerson('2281', pin); // caches generation 1
      const writer = vault();
      await writer.shred('2281', p);
      await writer.registerPerson('2281', pin);
      const after = await writer.encryptFor('2281', p, 'generation 2');
      expect(await stale.decryptFor('2281', p, after)).toBe('generation 2');
      expect(await stale.revealPin('2281', p)).toBe(pin);
      // ...and never writes with a key that is no longer the person's.
      const stale2 = vault();
      await stale2.decryptFor('2281', p, after); // caches generation 2
      await writer.shred('2281', p);
      await expect(stale2.encryptFor('2281', p, 'too late')).rejects.toThrow(PersonShredded);
      await writer.registerPerson('2281', pin);
      const written = await stale2.encryptFor('2281', p, 'generation 3');
      expect(written).toMatch(/^v1\.3\./);
      expect(await vault().decryptFor('2281', p, written)).toBe('generation 3');
    });
  });

  describe('key cache', () => {
    it('is bounded: the least recently used key is dropped', async () => {
      const v = vault({ cacheSize: 2 });
      const people: string[] = [];
      const envelopes: string[] = [];
      // One at a time, so the order of use (and so of eviction) is known: 0, 1, 2.
      for (const s of [400, 401, 402]) people.push(await v.registerPerson('2281', makePersonnummer('1970-01-01', s)));
      for (const p of people) envelopes.push(await v.encryptFor('2281', p, `text ${p}`));
      // Destroy the keys behind the vault's back: only what is still cached can be decrypted.
      await pool.query('UPDATE person_keys SET wrapped_key = NULL, master_key_id = NULL, shredded_at = now() WHERE pseudonym = ANY($1)', [people]);
      expect(await v.decryptFor('2281', people[2]!, envelopes[2]!)).toBe(`text ${people[2]}`);
      expect(await v.decryptFor('2281', people[1]!, envelopes[1]!)).toBe(`text ${people[1]}`);
      expect(await v.decryptFor('2281', people[0]!, envelopes[0]!)).toBe(SHREDDED);
    });
  });

  describe('revealPins (lists)', () => {
    it('reveals many in one call and leaves unknown pseudonyms out', async () => {
      const pins = manyPersonnummer(5, 77);
      const v = vault();
      const ps = await Promise.all(pins.map((pin) => v.registerPerson('2280', pin)));
      const got = await vault().revealPins('2280', [...ps, 'cccccccccccccccccccccccccc']);
      expect(got.size).toBe(5);
      ps.forEach((p, i) => expect(got.get(p)).toBe(pins[i]));
    });
  });

  describe("one person's read, prepared once per connection", () => {
    it("keeps a plan that looks the person up by the whole key, even generic and on statistics of a smaller table", async () => {
      const client = await pool.connect();
      try {
        // Statistics taken while the municipality had one person, then 3,000 more (as on a registration day).
        await client.query(`INSERT INTO person_keys (municipality, pseudonym, generation, wrapped_key, master_key_id) VALUES ('2283', 'plan-0', 1, '\\x00', 'k')`);
        await client.query(`INSERT INTO persons (municipality, pseudonym, pin_ciphertext) VALUES ('2283', 'plan-0', 'x')`);
        await client.query('ANALYZE person_keys; ANALYZE persons');
        await client.query(`INSERT INTO person_keys (municipality, pseudonym, generation, wrapped_key, master_key_id) SELECT '2283', 'plan-' || g, 1, '\\x00', 'k' FROM generate_series(1, 3000) g`);
        await client.query(`INSERT INTO persons (municipality, pseudonym, pin_ciphertext) SELECT '2283', 'plan-' || g, 'x' FROM generate_series(1, 3000) g`);
        const { text, values } = PersonVault.revealStatement('2283', ['plan-42']);
        await client.query(`PREPARE reveal_one AS ${text}`);
        await client.query('SET plan_cache_mode = force_generic_plan');
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE reveal_one(${values.map((v) => pg.escapeLiteral(String(v))).join(', ')})`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toMatch(/Index Cond: \(\(municipality = \$1\) AND \(pseudonym = \$2\)\)/);
        expect(plan).not.toMatch(/Index Cond: \(municipality = \$1\)\n/);
      } finally {
        await client.query('RESET plan_cache_mode; DEALLOCATE ALL').catch(() => undefined);
        await client.query(`DELETE FROM persons WHERE municipality = '2283'; DELETE FROM person_keys WHERE municipality = '2283'`);
        client.release();
      }
    });
  });
});

describe('master-key rotation (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const pseudonymKey = randomBytes(32);
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  beforeAll(async () => {
    db = await createTestDatabase('rotation');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // pool.end() resolves before the sockets have closed; db.drop() (WITH FORCE) may then terminate
    // one, which the pool reports as an error. Harmless at teardown.
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('re-wraps every live key (in batches) so that only the new key is needed, and can be rerun', async () => {
    const before = new PersonVault(pool, { masterKey: oldKey, pseudonymKey });
    // More than one batch of 1000, across municipalities, with one shredded person.
    const pins = manyPersonnummer(2100, 5);
    const people: { m: string; p: string }[] = [];
    for (let i = 0; i < pins.length; i += 100) {
      const chunk = pins.slice(i, i + 100);
      people.push(...(await Promise.all(chunk.map(async (pin, j) => ({ m: (i + j) % 2 ? '2281' : '2262', p: await before.registerPerson((i + j) % 2 ? '2281' : '2262', pin) })))));
    }
    const samples = [0, 999, 1000, 2099].map((i) => people[i]!);
    const envelopes = await Promise.all(samples.map(({ m, p }) => before.encryptFor(m, p, `note ${p}`)));
    await before.shred(people[5]!.m, people[5]!.p);

    expect(await rotateMasterKey(pool, [oldKey], newKey)).toBe(2099);

    const { rows } = await pool.query<{ master_key_id: string | null; n: number }>('SELECT master_key_id, count(*)::int AS n FROM person_keys GROUP BY 1 ORDER BY 1');
    expect(rows).toEqual([
      { master_key_id: masterKeyId(newKey), n: 2099 },
      { master_key_id: null, n: 1 },
    ]);
    const after = new PersonVault(pool, { masterKey: newKey, pseudonymKey });
    for (const [i, { m, p }] of samples.entries()) {
      expect(await after.decryptFor(m, p, envelopes[i]!)).toBe(`note ${p}`);
      expect(await after.revealPin(m, p)).toBe(pins[[0, 999, 1000, 2099][i]!]);
    }
    // A process still on the old key says so plainly instead of failing to decrypt.
    await expect(new PersonVault(pool, { masterKey: oldKey, pseudonymKey }).revealPin(samples[0]!.m, samples[0]!.p)).rejects.toThrow(UnknownMasterKey);
    // ...unless it is given the new key as its previous key (the restart order does not matter).
    const bridging = new PersonVault(pool, { masterKey: oldKey, pseudonymKey, previousMasterKeys: [newKey] });
    expect(await bridging.revealPin(samples[0]!.m, samples[0]!.p)).toBe(pins[0]);

    expect(await rotateMasterKey(pool, [oldKey], newKey)).toBe(0);
  });

  it('changes nothing when a key is wrapped with a master key it was not given', async () => {
    const third = randomBytes(32);
    const snapshot = async () => (await pool.query('SELECT pseudonym, wrapped_key, master_key_id FROM person_keys ORDER BY 1')).rows;
    const before = await snapshot();
    await expect(rotateMasterKey(pool, [oldKey], third)).rejects.toThrow(UnknownMasterKey);
    expect(await snapshot()).toEqual(before);
  });

  it('from a running vault: the instance then wraps new keys with the new master key', async () => {
    const k1 = newKey;
    const k2 = randomBytes(32);
    const v = new PersonVault(pool, { masterKey: k1, pseudonymKey });
    expect(await v.rewrap(k2)).toBe(2099);
    expect(v.currentMasterKeyId).toBe(masterKeyId(k2));
    const p = await v.registerPerson('2281', makePersonnummer('2001-09-09', 9));
    const { rows } = await pool.query('SELECT master_key_id FROM person_keys WHERE pseudonym = $1', [p]);
    expect(rows[0].master_key_id).toBe(masterKeyId(k2));
    expect(await new PersonVault(pool, { masterKey: k2, pseudonymKey }).revealPin('2281', p)).toBe(makePersonnummer('2001-09-09', 9));
  });
});
