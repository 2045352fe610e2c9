import { randomBytes, randomInt } from 'node:crypto';
import { InvalidAppend, type ExpectedVersion, type NewEvent } from './event-store.port.js';

/**
 * Input checks shared by every adapter: a bad append is rejected here, before anything reaches
 * the database, so "bad input writes nothing" holds without relying on a rollback.
 */

/** data + metadata as JSON. Large documents belong in a read model or a file, not in an event. */
export const MAX_EVENT_BYTES = 1_048_576;
/** Per append; larger imports go through appendBulk. */
export const MAX_EVENTS_PER_APPEND = 10_000;

// Printable, no whitespace, not starting with `$` (KurrentDB reserves `$` streams for itself).
const STREAM = /^[^\s$\p{Cc}][^\s\p{Cc}]{0,199}$/u;
const TENANT = /^(\d{4}|system)$/;
const TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids the store generates are UUIDv7 (RFC 9562): time-ordered, so the unique index on event ids
 * grows at its right edge like the position index instead of taking random page writes, which
 * kept bulk imports slow with v4 ids. Caller-given ids may be any uuid.
 */
let lastMs = 0;
let counter = 0;
// Random bytes fetched 16 kB at a time: one randomBytes call per id was a quarter of a bulk import.
let pool = randomBytes(16_384);
let poolAt = 0;
export function uuidv7(): string {
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(16_384);
    poolAt = 0;
  }
  const b = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  let ms = Date.now();
  // Monotonic within this process: the 12 bits after the version count up inside one millisecond.
  if (ms <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * `count` (at most 2^16) ids that follow each other: a UUIDv7 whose last 32 bits count up from a
 * random start below 2^31, so the ids are exactly the uuids from the first to the last, in uuid
 * order, and id k is the first plus k (the PostgreSQL adapter stores a chunk of events with just
 * its first and last id; migration 1764000690000-event-chunks.ts).
 */
export function uuidv7Run(count: number): string[] {
  const prefix = uuidv7().slice(0, 28);
  const start = randomInt(0, 2 ** 31);
  const ids = new Array<string>(count);
  for (let k = 0; k < count; k++) ids[k] = prefix + (start + k).toString(16).padStart(8, '0');
  return ids;
}

/** An event checked and serialised once; adapters send the JSON text as is. */
export interface PreparedEvent {
  id: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: NewEvent['metadata'];
  dataJson: string;
  metadataJson: string;
}

export function validateStream(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || !STREAM.test(stream)) {
    throw new InvalidAppend(`Bad stream name ${JSON.stringify(stream)}: 1–200 printable characters, no whitespace, not starting with $`);
  }
}

export function validateTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !TENANT.test(tenant)) {
    throw new InvalidAppend(`Bad tenant ${JSON.stringify(tenant)}: a four-digit kommunkod or "system"`);
  }
}

/** -1 = any, 0 = no stream, n = exact version. */
export function encodeExpected(expected: ExpectedVersion): number {
  if (expected === 'any') return -1;
  if (expected === 'no_stream') return 0;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0 && expected <= 2_147_483_647) return expected;
  throw new InvalidAppend(`Bad expectedVersion ${JSON.stringify(expected)}: a version ≥ 0, 'no_stream' or 'any'`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `generateIds: false` leaves an event without an id with id '' (the caller gives it one). */
export function prepareEvents(stream: string, events: NewEvent[], maxEvents = MAX_EVENTS_PER_APPEND, generateIds = true): PreparedEvent[] {
  if (!Array.isArray(events) || events.length === 0) throw new InvalidAppend(`Empty append to ${stream}: at least one event is required`);
  if (events.length > maxEvents) throw new InvalidAppend(`${events.length} events in one append to ${stream}; at most ${maxEvents} (use appendBulk)`);
  const ids = new Set<string>();
  return events.map((e, i) => {
    // The message is put together only for an error: together with counting bytes only for
    // long texts (below), ~0.2 of ~4.3 µs of Node time an event in a bulk import.
    const bad = (problem: string) => new InvalidAppend(`event ${i} (${String(e?.type)}) of ${stream}: ${problem}`);
    if (!isPlainObject(e)) throw bad('not an object');
    if (typeof e.type !== 'string' || !TYPE.test(e.type)) throw bad('bad type name');
    let lower: string;
    if (e.id == null) {
      // Generated ids are valid, lower case and unique by construction; checking them again
      // cost a bulk import ~1 µs of Node time an event (--cpu-prof).
      lower = generateIds ? uuidv7() : '';
    } else {
      const id = e.id;
      if (typeof id !== 'string' || !UUID.test(id)) throw bad('id must be a uuid');
      lower = id.toLowerCase();
      if (ids.has(lower)) throw bad(`id ${id} appears twice in the same append`);
      ids.add(lower);
    }
    const schemaVersion = e.schemaVersion ?? 1;
    if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > 1000) throw bad('schemaVersion must be an integer ≥ 1');
    if (!isPlainObject(e.data)) throw bad('data must be a JSON object');
    if (!isPlainObject(e.metadata) || typeof e.metadata.actor !== 'string' || e.metadata.actor === '') {
      throw bad('metadata.actor is required');
    }
    let dataJson: string;
    let metadataJson: string;
    try {
      dataJson = JSON.stringify(e.data);
      metadataJson = JSON.stringify(e.metadata);
    } catch (err) {
      throw bad(`not serialisable as JSON (${(err as Error).message})`);
    }
    // PostgreSQL's jsonb rejects \u0000; refuse it here rather than half-way through a batch.
    if (dataJson.includes('\\u0000') || metadataJson.includes('\\u0000')) throw bad('contains a NUL character');
    // UTF-8 takes at most 3 bytes a UTF-16 unit: only a long text needs its bytes counted.
    if (3 * (dataJson.length + metadataJson.length) > MAX_EVENT_BYTES) {
      const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
      if (bytes > MAX_EVENT_BYTES) throw bad(`${bytes} bytes; at most ${MAX_EVENT_BYTES}`);
    }
    return { id: lower, type: e.type, schemaVersion, data: e.data, metadata: e.metadata, dataJson, metadataJson };
  });
}
