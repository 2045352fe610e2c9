import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { SqlExecutor } from '../event-store/event-store.port.js';
import { sendWithNext } from '../database/coalescing-executor.js';

/**
 * The only place that sees a personnummer in clear text after validation, and the only holder
 * of personal data keys.
 *
 * - A person is known by a **pseudonym**: HMAC-SHA256 of (municipality, personnummer) under the
 *   pseudonym key. Stable (the same person gets the same pseudonym in every round and export),
 *   not reversible without the key, and different in each municipality so that two tenants'
 *   data cannot be joined on it. The pseudonym key can therefore never be rotated without
 *   re-keying every stream; the master key can (see `rotateMasterKey`).
 * - Each person has a random 32-byte **data key**, stored wrapped (AES-256-GCM) with the master
 *   key. The personnummer and free text about the person (reasons) are encrypted with it.
 * - **Crypto-shredding** destroys the wrapped key: every ciphertext of that person, wherever it
 *   was copied (events, backups), becomes unreadable. Decrypting then gives `SHREDDED`.
 *
 * Every method takes an optional `tx` so a caller can do its part inside its own transaction
 * (e.g. register the person in the same transaction as the CaseRegistered append).
 */
export interface VaultKeys {
  /** 32 bytes: wraps the data keys. */
  masterKey: Buffer;
  /** 32 bytes: HMAC key for pseudonyms. */
  pseudonymKey: Buffer;
  /** Earlier master keys still accepted for unwrapping (during a rotation). */
  previousMasterKeys?: Buffer[];
}

export interface VaultOptions {
  /** Unwrapped data keys kept in memory (LRU). Default 10 000. */
  cacheSize?: number;
  /**
   * How long a cached key may be used. Bounds how long another instance of the service can still
   * decrypt after a shred on this one (this instance evicts at once). Default 60 s.
   */
  cacheTtlMs?: number;
}

/** What decrypting gives once the person's key is destroyed. */
export const SHREDDED = Object.freeze({ shredded: true as const });
export type Shredded = typeof SHREDDED;
export function isShredded(v: unknown): v is Shredded {
  return v === SHREDDED;
}

export class PersonNotFound extends Error {
  constructor(readonly municipality: string, readonly pseudonym: string) {
    super(`No person ${pseudonym} in municipality ${municipality}`);
    this.name = 'PersonNotFound';
  }
}

/** The person's key has been destroyed: their personnummer and free text are gone for good. */
export class PersonShredded extends Error {
  constructor(readonly municipality: string, readonly pseudonym: string) {
    super(`The data key of person ${pseudonym} in municipality ${municipality} has been destroyed`);
    this.name = 'PersonShredded';
  }
}

/** A data key is wrapped with a master key this process was not given. */
export class UnknownMasterKey extends Error {
  constructor(readonly masterKeyId: string) {
    super(`A data key is wrapped with master key ${masterKeyId}, which is not configured (MASTER_KEY, or a previous key during rotation)`);
    this.name = 'UnknownMasterKey';
  }
}

type KeyState = { status: 'active'; generation: number; key: Buffer } | { status: 'shredded'; generation: number };

interface KeyRow {
  generation: number;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
}

/** A row of PersonVault.revealStatement. */
export type PersonRow = KeyRow & { pseudonym: string; pin_ciphertext: string | null };

const ENVELOPE_VERSION = 'v1';
const MUNICIPALITY = /^\d{4}$/;

export class PersonVault {
  private masterKey: Buffer;
  private masterKeyId: string;
  /** Unwrapping keys by id: the current master key and any previous ones. */
  private readonly unwrapKeys = new Map<string, Buffer>();
  private readonly pseudonymKey: Buffer;
  private readonly cache: KeyCache;

  constructor(
    private readonly pool: Pool,
    keys: VaultKeys,
    opts: VaultOptions = {},
  ) {
    for (const k of [keys.masterKey, keys.pseudonymKey, ...(keys.previousMasterKeys ?? [])]) assertKey(k);
    this.masterKey = keys.masterKey;
    this.masterKeyId = masterKeyId(keys.masterKey);
    for (const k of [keys.masterKey, ...(keys.previousMasterKeys ?? [])]) this.unwrapKeys.set(masterKeyId(k), k);
    this.pseudonymKey = keys.pseudonymKey;
    this.cache = new KeyCache(opts.cacheSize ?? 10_000, opts.cacheTtlMs ?? 60_000);
  }

  /** Fingerprint of the master key new data keys are wrapped with (safe to log). */
  get currentMasterKeyId(): string {
    return this.masterKeyId;
  }

  /**
   * The person's pseudonym: 26 lowercase base32 characters (128 bits of HMAC-SHA256). Pure: no
   * database access. `pin` must be the 12-digit personnummer (a hyphen is ignored) — validate it
   * with parsePersonalIdentityNumber first.
   */
  pseudonym(municipality: string, pin: string): string {
    assertMunicipality(municipality);
    const normalized = normalizePin(pin);
    const mac = createHmac('sha256', this.pseudonymKey).update(`vagen:pseudonym:v1\u0000${municipality}\u0000${normalized}`).digest();
    return base32(mac.subarray(0, 16));
  }

  /**
   * Makes the person known in the municipality (a data key and the encrypted personnummer) and
   * returns the pseudonym. Idempotent and safe under concurrency: registering twice gives the
   * same pseudonym and key. A person whose key was shredded gets a new key (a new generation);
   * what was encrypted before stays unreadable.
   */
  async registerPerson(municipality: string, pin: string, tx?: SqlExecutor): Promise<string> {
    const normalized = normalizePin(pin);
    const pseudonym = this.pseudonym(municipality, normalized);
    const db = tx ?? this.pool;
    if (tx) await lockPerson(tx, municipality, pseudonym);
    for (let attempt = 0; attempt < 5; attempt++) {
      const key = randomBytes(32);
      const inserted = await db.query(
        `WITH k AS (
           INSERT INTO person_keys (municipality, pseudonym, generation, wrapped_key, master_key_id)
           VALUES ($1, $2, 1, $3::bytea, $4)
           ON CONFLICT (municipality, pseudonym) DO NOTHING
           RETURNING municipality, pseudonym)
         INSERT INTO persons (municipality, pseudonym, pin_ciphertext)
         SELECT municipality, pseudonym, $5 FROM k`,
        // The wrapped key as bytea's hex text, not a Buffer: a text parameter can be written into
        // the statement, so the insert travels with the person lock (CoalescingExecutor).
        [municipality, pseudonym, `\\x${this.wrap(key, municipality, pseudonym, 1).toString('hex')}`, this.masterKeyId, seal(key, aad('pin', municipality, pseudonym, 1), normalized, 1)],
      );
      if (inserted.rowCount === 1) {
        this.remember(municipality, pseudonym, { status: 'active', generation: 1, key }, tx);
        return pseudonym;
      }
      const state = await this.loadKey(municipality, pseudonym, db, tx);
      if (state.status === 'active') return pseudonym;
      // Shredded earlier: a new key for the new data. The generation guard makes a concurrent
      // re-registration lose cleanly (0 rows) and retry, reading the winner's key.
      const generation = state.generation + 1;
      const rekeyed = await db.query(
        `WITH k AS (
           UPDATE person_keys SET generation = $3, wrapped_key = $4, master_key_id = $5, shredded_at = NULL
           WHERE municipality = $1 AND pseudonym = $2 AND generation = $6 AND wrapped_key IS NULL
           RETURNING municipality, pseudonym)
         UPDATE persons p SET pin_ciphertext = $7 FROM k WHERE p.municipality = k.municipality AND p.pseudonym = k.pseudonym`,
        [
          municipality,
          pseudonym,
          generation,
          this.wrap(key, municipality, pseudonym, generation),
          this.masterKeyId,
          state.generation,
          seal(key, aad('pin', municipality, pseudonym, generation), normalized, generation),
        ],
      );
      if (rekeyed.rowCount === 1) {
        this.remember(municipality, pseudonym, { status: 'active', generation, key }, tx);
        return pseudonym;
      }
    }
    throw new Error(`registerPerson: could not settle the key of ${pseudonym} after 5 attempts`);
  }

  /** Whether the municipality knows this person (shredded or not). */
  async exists(municipality: string, pseudonym: string, tx?: SqlExecutor): Promise<boolean> {
    const r = await (tx ?? this.pool).query('SELECT 1 FROM person_keys WHERE municipality = $1 AND pseudonym = $2', [municipality, pseudonym]);
    return r.rowCount === 1;
  }

  /**
   * Free text about the person (a reason, a note), as an opaque envelope string. Always checks
   * the key row rather than the cache: text encrypted under a key another instance has just
   * shredded or replaced would be lost without anyone noticing. (Reads may use the cache.)
   */
  async encryptFor(municipality: string, pseudonym: string, text: string, tx?: SqlExecutor): Promise<string> {
    const state = await this.loadKey(municipality, pseudonym, tx ?? this.pool, tx);
    if (state.status === 'shredded') throw new PersonShredded(municipality, pseudonym);
    return seal(state.key, aad('text', municipality, pseudonym, state.generation), text, state.generation);
  }

  /** The text of an envelope from `encryptFor`, or SHREDDED once the person's key is destroyed. */
  async decryptFor(municipality: string, pseudonym: string, envelope: string, tx?: SqlExecutor): Promise<string | Shredded> {
    const { generation } = parseEnvelope(envelope);
    const state = await this.keyOf(municipality, pseudonym, tx, generation);
    if (state.status === 'shredded' || generation < state.generation) return SHREDDED;
    if (generation > state.generation) throw new Error('Envelope from a key generation that does not exist (written by a rolled-back transaction?)');
    return open(state.key, aad('text', municipality, pseudonym, generation), envelope);
  }

  /** The 12-digit personnummer. Throws PersonShredded after erasure, PersonNotFound if unknown. */
  async revealPin(municipality: string, pseudonym: string, tx?: SqlExecutor): Promise<string> {
    const pins = await this.revealPins(municipality, [pseudonym], tx);
    const pin = pins.get(pseudonym);
    if (pin === undefined) throw new PersonNotFound(municipality, pseudonym);
    if (isShredded(pin)) throw new PersonShredded(municipality, pseudonym);
    return pin;
  }

  /** For lists: one query for many people. Unknown pseudonyms are absent from the map. */
  async revealPins(municipality: string, pseudonyms: string[], tx?: SqlExecutor): Promise<Map<string, string | Shredded>> {
    const people = await this.revealPersons(municipality, pseudonyms, tx);
    return new Map([...people].map(([pseudonym, p]) => [pseudonym, p.pin]));
  }

  /**
   * As `revealPins`, with each person's key generation: 1 means the key was never shredded (a
   * re-registration after shredding gets generation 2 and up).
   */
  async revealPersons(
    municipality: string,
    pseudonyms: string[],
    tx?: SqlExecutor,
    /** `tx` has written no person keys (e.g. it only logs the read): the keys it reads are committed ones and may be cached. */
    keysCommitted = false,
  ): Promise<Map<string, { pin: string | Shredded; generation: number }>> {
    if (pseudonyms.length === 0) return new Map();
    const { text, values } = PersonVault.revealStatement(municipality, pseudonyms);
    const { rows } = await (tx ?? this.pool).query<PersonRow>(text, values);
    return this.personsOf(municipality, rows, keysCommitted ? undefined : tx);
  }

  /**
   * The query behind revealPersons, for a caller that sends it itself (e.g. with a command's
   * append). One person (a case's read or command) is looked up by the whole key: a statement
   * prepared once (CoalescingExecutor's `prepare`) keeps PostgreSQL's generic plan, and with
   * `= ANY($2)` that plan could scan the municipality's every key while the statistics are
   * those of a smaller table (seen on registration day: 5 ms a command instead of 0.05).
   */
  static revealStatement(municipality: string, pseudonyms: string[]): { text: string; values: unknown[] } {
    const unique = [...new Set(pseudonyms)];
    return {
      text: `SELECT k.pseudonym, k.generation, k.wrapped_key, k.master_key_id, p.pin_ciphertext
       FROM person_keys k JOIN persons p USING (municipality, pseudonym)
       WHERE k.municipality = $1 AND ${unique.length === 1 ? 'k.pseudonym = $2' : 'k.pseudonym = ANY($2::text[])'}`,
      values: [municipality, unique.length === 1 ? unique[0] : unique],
    };
  }

  /**
   * As revealStatement for the person of one case, the pseudonym taken from `casePersons` (the
   * live build's case_persons table, schema-qualified) in the same statement: for a read that
   * sends it with the read of the case's events, before it knows the person.
   */
  static revealCaseStatement(municipality: string, caseId: string, casePersons: string): { text: string; values: unknown[] } {
    return {
      text: `SELECT k.pseudonym, k.generation, k.wrapped_key, k.master_key_id, p.pin_ciphertext
       FROM ${casePersons} c
       JOIN person_keys k ON k.municipality = c.municipality AND k.pseudonym = c.pseudonym
       JOIN persons p ON p.municipality = c.municipality AND p.pseudonym = c.pseudonym
       WHERE c.case_id = $2::uuid AND c.municipality = $1`,
      values: [municipality, caseId],
    };
  }

  /**
   * revealPersons' answer from the rows of revealStatement. `tx`: the transaction they were read
   * in, while it may still roll back (its keys are not cached); undefined once they are committed.
   */
  personsOf(municipality: string, rows: PersonRow[], tx?: SqlExecutor): Map<string, { pin: string | Shredded; generation: number }> {
    const out = new Map<string, { pin: string | Shredded; generation: number }>();
    for (const row of rows) {
      // The row is authoritative (another instance may have shredded or re-keyed since we cached).
      const cached = this.cache.get(cacheKey(municipality, row.pseudonym));
      const state =
        cached && row.wrapped_key !== null && cached.generation === row.generation ? cached : this.fromRow(municipality, row.pseudonym, row, tx);
      if (state.status === 'shredded' || row.pin_ciphertext === null) {
        out.set(row.pseudonym, { pin: SHREDDED, generation: row.generation });
        continue;
      }
      out.set(row.pseudonym, { pin: open(state.key, aad('pin', municipality, row.pseudonym, state.generation), row.pin_ciphertext), generation: state.generation });
    }
    return out;
  }

  /**
   * Crypto-shredding: destroys the person's data key and encrypted personnummer. Returns true if
   * a key was destroyed now, false if it already was; PersonNotFound if the person is unknown.
   */
  async shred(municipality: string, pseudonym: string, tx?: SqlExecutor): Promise<boolean> {
    // Evict first and block re-caching: a read racing with this shred must not put the key
    // back into the cache after we commit.
    this.cache.forbid(cacheKey(municipality, pseudonym));
    const { rows } = await (tx ?? this.pool).query<{ n: number }>(
      `WITH k AS (
         UPDATE person_keys SET wrapped_key = NULL, master_key_id = NULL, shredded_at = now()
         WHERE municipality = $1 AND pseudonym = $2 AND wrapped_key IS NOT NULL
         RETURNING municipality, pseudonym),
       p AS (
         UPDATE persons SET pin_ciphertext = NULL FROM k
         WHERE persons.municipality = k.municipality AND persons.pseudonym = k.pseudonym
         RETURNING 1)
       SELECT (SELECT count(*) FROM k)::int AS n`,
      [municipality, pseudonym],
    );
    if (rows[0]!.n === 1) return true;
    if (!(await this.exists(municipality, pseudonym, tx))) throw new PersonNotFound(municipality, pseudonym);
    return false;
  }

  /**
   * Master-key rotation from the running service: re-wraps every data key with `newMasterKey`
   * in one transaction, then wraps new keys with it. The old key stays accepted for unwrapping
   * in this process. Other instances must be restarted with the new MASTER_KEY.
   */
  async rewrap(newMasterKey: Buffer): Promise<number> {
    const n = await rotateMasterKey(this.pool, [...this.unwrapKeys.values()], newMasterKey);
    this.masterKey = newMasterKey;
    this.masterKeyId = masterKeyId(newMasterKey);
    this.unwrapKeys.set(this.masterKeyId, newMasterKey);
    return n;
  }

  /** `generation`: the generation an envelope was written with; a cached older key is not it. */
  private async keyOf(municipality: string, pseudonym: string, tx?: SqlExecutor, generation = 0): Promise<KeyState> {
    const cached = this.cache.get(cacheKey(municipality, pseudonym));
    if (cached && cached.generation >= generation) return cached;
    return this.loadKey(municipality, pseudonym, tx ?? this.pool, tx);
  }

  private async loadKey(municipality: string, pseudonym: string, db: SqlExecutor, tx: SqlExecutor | undefined): Promise<KeyState> {
    const { rows } = await db.query<KeyRow>(
      'SELECT generation, wrapped_key, master_key_id FROM person_keys WHERE municipality = $1 AND pseudonym = $2',
      [municipality, pseudonym],
    );
    if (rows.length === 0) throw new PersonNotFound(municipality, pseudonym);
    return this.fromRow(municipality, pseudonym, rows[0]!, tx);
  }

  private fromRow(municipality: string, pseudonym: string, row: KeyRow, tx: SqlExecutor | undefined): KeyState {
    if (row.wrapped_key === null) {
      this.cache.delete(cacheKey(municipality, pseudonym));
      return { status: 'shredded', generation: row.generation };
    }
    const wrappingKey = this.unwrapKeys.get(row.master_key_id!);
    if (!wrappingKey) throw new UnknownMasterKey(row.master_key_id!);
    const key = unwrap(wrappingKey, row.wrapped_key, municipality, pseudonym, row.generation);
    const state: KeyState = { status: 'active', generation: row.generation, key };
    this.remember(municipality, pseudonym, state, tx);
    return state;
  }

  /**
   * Only keys read outside a caller's transaction are cached: inside one, the row may be
   * uncommitted and vanish on rollback, and a cached key that was never stored would encrypt
   * data nobody can read again.
   */
  private remember(municipality: string, pseudonym: string, state: KeyState, tx: SqlExecutor | undefined): void {
    if (tx === undefined && state.status === 'active') this.cache.set(cacheKey(municipality, pseudonym), state);
  }

  private wrap(key: Buffer, municipality: string, pseudonym: string, generation: number): Buffer {
    return wrapKey(this.masterKey, key, municipality, pseudonym, generation);
  }
}

/**
 * Re-wraps every live data key with `newMasterKey`, in one transaction. `oldMasterKeys` are the
 * keys the data keys may currently be wrapped with. Rows already wrapped with the new key are
 * skipped, so an interrupted or repeated rotation is harmless. Registrations wait for it (table
 * lock) so no key is wrapped with the old key behind its back. Returns the number re-wrapped.
 */
export async function rotateMasterKey(pool: Pool, oldMasterKeys: Buffer[], newMasterKey: Buffer): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const n = await rewrapDataKeys(client, oldMasterKeys, newMasterKey);
    await client.query('COMMIT');
    return n;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** The body of `rotateMasterKey`, for a caller that holds the transaction. */
export async function rewrapDataKeys(tx: SqlExecutor, oldMasterKeys: Buffer[], newMasterKey: Buffer): Promise<number> {
  assertKey(newMasterKey);
  const newId = masterKeyId(newMasterKey);
  const byId = new Map(oldMasterKeys.map((k) => (assertKey(k), [masterKeyId(k), k] as const)));
  await tx.query('LOCK TABLE person_keys IN SHARE ROW EXCLUSIVE MODE');
  let count = 0;
  let after: [string, string] = ['', ''];
  for (;;) {
    const { rows } = await tx.query<KeyRow & { municipality: string; pseudonym: string }>(
      `SELECT municipality, pseudonym, generation, wrapped_key, master_key_id FROM person_keys
       WHERE wrapped_key IS NOT NULL AND master_key_id <> $1 AND (municipality, pseudonym) > ($2, $3)
       ORDER BY municipality, pseudonym LIMIT 1000`,
      [newId, after[0], after[1]],
    );
    if (rows.length === 0) return count;
    const wrapped = rows.map((r) => {
      const old = byId.get(r.master_key_id!);
      if (!old) throw new UnknownMasterKey(r.master_key_id!);
      const key = unwrap(old, r.wrapped_key!, r.municipality, r.pseudonym, r.generation);
      return wrapKey(newMasterKey, key, r.municipality, r.pseudonym, r.generation);
    });
    await tx.query(
      `UPDATE person_keys k SET wrapped_key = u.w, master_key_id = $4
       FROM unnest($1::text[], $2::text[], $3::bytea[]) AS u(m, p, w)
       WHERE k.municipality = u.m AND k.pseudonym = u.p`,
      [rows.map((r) => r.municipality), rows.map((r) => r.pseudonym), wrapped, newId],
    );
    count += rows.length;
    const last = rows[rows.length - 1]!;
    after = [last.municipality, last.pseudonym];
  }
}

/** Fingerprint of a master key: identifies it in the database and logs without revealing it. */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('vagen:master-key-id:v1').digest('hex').slice(0, 16);
}

// --- AES-256-GCM -------------------------------------------------------------------------------
// Associated data binds each ciphertext to its person, purpose and key generation: a ciphertext
// copied onto another person, or a wrapped key moved to another row, fails to decrypt.

function aad(purpose: 'pin' | 'text', municipality: string, pseudonym: string, generation: number): Buffer {
  return Buffer.from(`vagen:${purpose}:v1|${municipality}|${pseudonym}|${generation}`);
}

function wrapKey(masterKey: Buffer, key: Buffer, municipality: string, pseudonym: string, generation: number): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  c.setAAD(Buffer.from(`vagen:data-key:v1|${municipality}|${pseudonym}|${generation}`));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]);
}

function unwrap(masterKey: Buffer, wrapped: Buffer, municipality: string, pseudonym: string, generation: number): Buffer {
  const d = createDecipheriv('aes-256-gcm', masterKey, wrapped.subarray(0, 12));
  d.setAAD(Buffer.from(`vagen:data-key:v1|${municipality}|${pseudonym}|${generation}`));
  d.setAuthTag(wrapped.subarray(12, 28));
  return Buffer.concat([d.update(wrapped.subarray(28)), d.final()]);
}

/** Envelope: `v1.<generation>.<base64url(iv ‖ tag ‖ ciphertext)>`. */
function seal(key: Buffer, ad: Buffer, text: string, generation: number): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(ad);
  const ct = Buffer.concat([c.update(text, 'utf8'), c.final()]);
  return `${ENVELOPE_VERSION}.${generation}.${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url')}`;
}

function open(key: Buffer, ad: Buffer, envelope: string): string {
  const raw = Buffer.from(parseEnvelope(envelope).body, 'base64url');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAAD(ad);
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}

function parseEnvelope(envelope: string): { generation: number; body: string } {
  const m = /^v1\.(\d{1,9})\.([A-Za-z0-9_-]{38,})$/.exec(envelope);
  if (!m) throw new Error('Not a vault envelope');
  return { generation: Number(m[1]), body: m[2]! };
}

// --- helpers -----------------------------------------------------------------------------------

function normalizePin(pin: string): string {
  const d = /^(\d{8})-?(\d{4})$/.exec(pin);
  if (!d) throw new Error('PersonVault needs a validated 12-digit personnummer');
  return d[1]! + d[2]!;
}

function assertMunicipality(m: string): void {
  if (!MUNICIPALITY.test(m)) throw new Error(`Not a municipality code: ${m}`);
}

function assertKey(k: Buffer): void {
  if (!Buffer.isBuffer(k) || k.length !== 32) throw new Error('Vault keys must be 32 bytes');
}

function cacheKey(municipality: string, pseudonym: string): string {
  return `${municipality}/${pseudonym}`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Bounded LRU with expiry, plus short-lived "do not cache" marks for just-shredded people. */
class KeyCache {
  private readonly entries = new Map<string, { state: KeyState; expires: number }>();
  private readonly forbidden = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get(id: string): KeyState | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    if (e.expires <= Date.now()) return undefined;
    this.entries.set(id, e); // most recently used goes last
    return e.state;
  }

  set(id: string, state: KeyState): void {
    if (this.max <= 0) return;
    const until = this.forbidden.get(id);
    if (until !== undefined) {
      if (until > Date.now()) return;
      this.forbidden.delete(id);
    }
    this.entries.delete(id);
    this.entries.set(id, { state, expires: Date.now() + this.ttlMs });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  forbid(id: string): void {
    this.entries.delete(id);
    this.forbidden.set(id, Date.now() + this.ttlMs);
    if (this.forbidden.size > this.max) {
      const now = Date.now();
      for (const [k, until] of this.forbidden) if (until <= now) this.forbidden.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Advisory lock namespace (two-key form) per person: registration and erasure of one person. */
export const PERSON_LOCK = 727_195;

/**
 * Serialises the transactions that register or erase the same person until they commit (the
 * event store runs inline work before its append lock, so appends alone no longer order them):
 * a registration after an erasure finds the key shredded and makes a new one, an erasure after a
 * registration finds the new case (its own statements after this one see what committed).
 */
export async function lockPerson(tx: SqlExecutor, municipality: string, pseudonym: string): Promise<void> {
  // No answer needed: taken before whatever the transaction sends next, in the same message.
  await sendWithNext(tx, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [PERSON_LOCK, `${municipality}:${pseudonym}`]);
}
