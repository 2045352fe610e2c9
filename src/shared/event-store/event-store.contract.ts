import { randomUUID } from 'node:crypto';
import {
  InvalidAppend,
  StreamNotFound,
  WrongExpectedVersion,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from './event-store.port.js';

/**
 * One behaviour suite for every EventStore adapter. Each adapter's int-spec calls
 * `eventStoreContract(name, factory)`; the factory gives a store on a database the suite may fill.
 * Tests isolate themselves with fresh stream names and a tenant of their own, and read `$all`
 * only from the head position they saw at their start, so they can share one database.
 */
export interface EventStoreFixture {
  store: EventStore;
  close(): Promise<void>;
  /**
   * True when `inline` runs inside the append's transaction (PostgreSQL). Then the "no skipped
   * events" test puts its random delays inside the writing transactions through it.
   */
  transactionalInline: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let tenantCounter = Math.floor(Math.random() * 5000);
/** A kommunkod of the test's own, so tenant-filtered reads see only its events. */
const freshTenant = () => String(1000 + (tenantCounter++ % 9000)).padStart(4, '0');
const freshStream = (prefix = 'contract') => `${prefix}-${randomUUID()}`;

function ev(type: string, data: Record<string, unknown> = {}, extra: Partial<NewEvent> = {}): NewEvent {
  return { type, data, metadata: { actor: 'test:contract', correlationId: randomUUID() }, ...extra };
}

async function collect(iterable: AsyncIterable<StoredEvent[]>): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for await (const batch of iterable) all.push(...batch);
  return all;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** What an adapter guarantees beyond the common contract (decided per adapter, stated up front). */
export interface EventStoreCapabilities {
  /** Event ids are unique across all streams (an id reused in another stream is rejected). */
  uniqueEventIdsAcrossStreams: boolean;
}

export function eventStoreContract(name: string, factory: () => Promise<EventStoreFixture>, capabilities: EventStoreCapabilities): void {
  describe(`EventStore contract: ${name}`, () => {
    let fx: EventStoreFixture;
    let store: EventStore;
    beforeAll(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterAll(async () => {
      await fx?.close();
    });

    describe('append and readStream', () => {
      it('stores events with versions from 1, increasing positions, the store clock and the metadata given', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        const before = Date.now();
        const r1 = await store.append(stream, [ev('CaseRegistered', { unit: 'vuxenstod' }), ev('PrioritySet', { priority: 'high' })], { expectedVersion: 'no_stream', tenant });
        const r2 = await store.append(stream, [ev('CaseTransferred', { toUnit: 'forsorjningsstod' })], { expectedVersion: 2, tenant });
        expect(r1.nextExpectedVersion).toBe(2);
        expect(r1.positions).toHaveLength(2);
        expect(r1.positions[1]).toBeGreaterThan(r1.positions[0]);
        expect(r1.lastPosition).toBe(r1.positions[1]);
        expect(r2.nextExpectedVersion).toBe(3);
        expect(r2.lastPosition).toBeGreaterThan(r1.lastPosition);

        const events = await store.readStream(stream);
        expect(events.map((e) => [e.version, e.type, e.position])).toEqual([
          [1, 'CaseRegistered', r1.positions[0]],
          [2, 'PrioritySet', r1.positions[1]],
          [3, 'CaseTransferred', r2.positions[0]],
        ]);
        expect(events[0]).toMatchObject({ stream, tenant, schemaVersion: 1, data: { unit: 'vuxenstod' } });
        expect(events[0].metadata.actor).toBe('test:contract');
        expect(typeof events[0].metadata.correlationId).toBe('string');
        expect(events[0].id).toMatch(/^[0-9a-f-]{36}$/);
        expect(events[0].recordedAt).toBeInstanceOf(Date);
        // The store's clock, not the caller's: within a generous minute of this process's clock.
        expect(Math.abs(events[0].recordedAt.getTime() - before)).toBeLessThan(60_000);
        expect(await store.streamVersion(stream)).toBe(3);
        expect(await store.streamVersion(freshStream())).toBe(0);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(r2.lastPosition);
      });

      it('keeps the id, schema version and effective date given by the caller', async () => {
        const stream = freshStream();
        const id = randomUUID();
        await store.append(stream, [ev('AssessmentRecorded', { a: [1, 'två', { tre: null }] }, { id, schemaVersion: 1, metadata: { actor: 'u1', effectiveDate: '2026-01-15', causationId: 'c1' } })], {
          expectedVersion: 'any',
          tenant: freshTenant(),
        });
        const [e] = await store.readStream(stream);
        expect(e.id).toBe(id);
        expect(e.data).toEqual({ a: [1, 'två', { tre: null }] });
        expect(e.metadata).toEqual({ actor: 'u1', effectiveDate: '2026-01-15', causationId: 'c1' });
      });

      it('reads a version range', async () => {
        const stream = freshStream();
        await store.append(stream, Array.from({ length: 6 }, (_, i) => ev('BenefitMonthRecorded', { i })), { expectedVersion: 'no_stream', tenant: freshTenant() });
        expect((await store.readStream(stream, { fromVersion: 3 })).map((e) => e.version)).toEqual([3, 4, 5, 6]);
        expect((await store.readStream(stream, { toVersion: 2 })).map((e) => e.version)).toEqual([1, 2]);
        expect((await store.readStream(stream, { fromVersion: 2, toVersion: 4 })).map((e) => e.data.i)).toEqual([1, 2, 3]);
        expect(await store.readStream(stream, { fromVersion: 7 })).toEqual([]);
      });

      it('throws StreamNotFound for a stream without events', async () => {
        const stream = freshStream();
        const e = await rejection(store.readStream(stream));
        expect(e).toBeInstanceOf(StreamNotFound);
        expect((e as StreamNotFound).stream).toBe(stream);
      });

      it('reads a stream as known at an instant (knownAt filters on recordedAt)', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        await store.append(stream, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const [first] = await store.readStream(stream);
        await sleep(30);
        await store.append(stream, [ev('CaseClosed', { reason: 'employment' })], { expectedVersion: 1, tenant });
        const [, second] = await store.readStream(stream);
        expect(second.recordedAt.getTime()).toBeGreaterThan(first.recordedAt.getTime());

        expect((await store.readStream(stream, { knownAt: first.recordedAt })).map((e) => e.type)).toEqual(['CaseRegistered']);
        expect((await store.readStream(stream, { knownAt: second.recordedAt })).map((e) => e.type)).toEqual(['CaseRegistered', 'CaseClosed']);
        expect(await rejection(store.readStream(stream, { knownAt: new Date(first.recordedAt.getTime() - 1) }))).toBeInstanceOf(StreamNotFound);
        const all = await collect(store.readAll({ fromPosition: first.position - 1, tenants: [tenant], knownAt: first.recordedAt }));
        expect(all.map((e) => e.id)).toEqual([first.id]);
      });

      it('reads a 10,000-event stream completely and in order', async () => {
        const stream = freshStream('big');
        const tenant = freshTenant();
        let version = 0;
        for (let chunk = 0; chunk < 10; chunk++) {
          const r = await store.append(stream, Array.from({ length: 1000 }, (_, i) => ev('BenefitMonthRecorded', { n: chunk * 1000 + i })), { expectedVersion: version === 0 ? 'no_stream' : version, tenant });
          version = r.nextExpectedVersion;
        }
        expect(version).toBe(10_000);
        const events = await store.readStream(stream);
        expect(events).toHaveLength(10_000);
        expect(events.every((e, i) => e.version === i + 1 && e.data.n === i)).toBe(true);
        expect(events.every((e, i) => i === 0 || e.position > events[i - 1].position)).toBe(true);
      });
    });

    describe('optimistic concurrency', () => {
      it('rejects a wrong expected version with the actual version, and writes nothing', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        await store.append(stream, [ev('CaseRegistered'), ev('PrioritySet')], { expectedVersion: 'no_stream', tenant });
        const stale = await rejection(store.append(stream, [ev('CaseClosed')], { expectedVersion: 1, tenant }));
        expect(stale).toBeInstanceOf(WrongExpectedVersion);
        expect(stale).toMatchObject({ stream, expected: 1, actual: 2 });
        const exists = await rejection(store.append(stream, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant }));
        expect(exists).toMatchObject({ name: 'WrongExpectedVersion', actual: 2 });
        const missing = await rejection(store.append(freshStream(), [ev('CaseClosed')], { expectedVersion: 3, tenant }));
        expect(missing).toMatchObject({ name: 'WrongExpectedVersion', expected: 3, actual: 0 });
        expect(await store.streamVersion(stream)).toBe(2);
        const any = await store.append(stream, [ev('CaseClosed')], { expectedVersion: 'any', tenant });
        expect(any.nextExpectedVersion).toBe(3);
      });

      it('lets exactly one of 20 concurrent appends with the same expected version win', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        await store.append(stream, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.append(stream, [ev('PrioritySet', { writer: i })], { expectedVersion: 1, tenant })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        for (const l of lost) {
          expect(l.reason).toBeInstanceOf(WrongExpectedVersion);
          expect((l.reason as WrongExpectedVersion).actual).toBe(2);
        }
        const events = await store.readStream(stream);
        expect(events.map((e) => e.version)).toEqual([1, 2]);
        expect(events[1].data.writer).toBe(results.findIndex((r) => r.status === 'fulfilled'));
      });

      it('lets exactly one of 20 concurrent creations of the same stream win', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.append(stream, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof WrongExpectedVersion)).toHaveLength(19);
        expect(await store.streamVersion(stream)).toBe(1);
      });

      it('keeps a conflict on one stream from failing concurrent appends to other streams', async () => {
        const tenant = freshTenant();
        const contested = freshStream();
        await store.append(contested, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const others = Array.from({ length: 10 }, () => freshStream());
        const results = await Promise.allSettled([
          store.append(contested, [ev('PrioritySet')], { expectedVersion: 0, tenant }),
          ...others.map((s) => store.append(s, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant })),
          store.append(contested, [ev('PrioritySet')], { expectedVersion: 1, tenant }),
        ]);
        // Concurrent calls commit in either order: the stale one sees version 1 or 2.
        expect(results[0]).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedVersion' } });
        expect([1, 2]).toContain(((results[0] as PromiseRejectedResult).reason as WrongExpectedVersion).actual);
        expect(results.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
        for (const s of others) expect(await store.streamVersion(s)).toBe(1);
      });
    });

    describe('duplicate event ids', () => {
      it('answers a retry of the same append with the stored result and stores nothing twice', async () => {
        const stream = freshStream();
        const tenant = freshTenant();
        const events = [ev('CaseRegistered', {}, { id: randomUUID() }), ev('PrioritySet', {}, { id: randomUUID() })];
        const first = await store.append(stream, events, { expectedVersion: 'no_stream', tenant });
        const retry = await store.append(stream, events, { expectedVersion: 'no_stream', tenant });
        expect(retry).toEqual(first);
        const concurrentRetries = await Promise.all([1, 2, 3].map(() => store.append(stream, events, { expectedVersion: 'no_stream', tenant })));
        for (const r of concurrentRetries) expect(r).toEqual(first);
        expect((await store.readStream(stream)).map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(await store.streamVersion(stream)).toBe(2);
      });

      if (capabilities.uniqueEventIdsAcrossStreams) {
        it('rejects an id already stored in another stream, or stored in part, and writes nothing', async () => {
          const tenant = freshTenant();
          const stream = freshStream();
          const id = randomUUID();
          await store.append(stream, [ev('CaseRegistered', {}, { id })], { expectedVersion: 'no_stream', tenant });
          const head = await store.headPosition();
          const other = freshStream();
          expect(await rejection(store.append(other, [ev('CaseRegistered', {}, { id })], { expectedVersion: 'no_stream', tenant }))).toBeInstanceOf(InvalidAppend);
          expect(await rejection(store.append(stream, [ev('CaseRegistered', {}, { id }), ev('PrioritySet')], { expectedVersion: 'any', tenant }))).toBeInstanceOf(InvalidAppend);
          expect(await store.streamVersion(other)).toBe(0);
          expect(await store.streamVersion(stream)).toBe(1);
          expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
        });
      }
    });

    describe('bad input writes nothing', () => {
      const tenant = freshTenant();
      const cases: [string, () => Promise<unknown>][] = [
        ['an empty batch', () => store.append(freshStream(), [], { expectedVersion: 'any', tenant })],
        ['a stream name with whitespace', () => store.append('case 1', [ev('CaseRegistered')], { expectedVersion: 'any', tenant })],
        ['an empty stream name', () => store.append('', [ev('CaseRegistered')], { expectedVersion: 'any', tenant })],
        ['a $ stream name', () => store.append('$all', [ev('CaseRegistered')], { expectedVersion: 'any', tenant })],
        ['a too long stream name', () => store.append('s'.repeat(201), [ev('CaseRegistered')], { expectedVersion: 'any', tenant })],
        ['a bad tenant', () => store.append(freshStream(), [ev('CaseRegistered')], { expectedVersion: 'any', tenant: '22810' })],
        ['a bad type', () => store.append(freshStream(), [ev('Case Registered')], { expectedVersion: 'any', tenant })],
        ['a bad id', () => store.append(freshStream(), [ev('CaseRegistered', {}, { id: 'not-a-uuid' })], { expectedVersion: 'any', tenant })],
        ['the same id twice', () => {
          const id = randomUUID();
          return store.append(freshStream(), [ev('A', {}, { id }), ev('B', {}, { id })], { expectedVersion: 'any', tenant });
        }],
        ['a missing actor', () => store.append(freshStream(), [{ type: 'CaseRegistered', data: {}, metadata: {} as never }], { expectedVersion: 'any', tenant })],
        ['data that is not an object', () => store.append(freshStream(), [{ type: 'CaseRegistered', data: [1] as never, metadata: { actor: 'a' } }], { expectedVersion: 'any', tenant })],
        ['a negative expected version', () => store.append(freshStream(), [ev('CaseRegistered')], { expectedVersion: -1, tenant })],
        ['an oversized event', () => store.append(freshStream(), [ev('CaseRegistered', { blob: 'x'.repeat(1_100_000) })], { expectedVersion: 'any', tenant })],
        ['an oversized event after a good one', () => store.append(freshStream(), [ev('CaseRegistered'), ev('PrioritySet', { blob: 'x'.repeat(1_100_000) })], { expectedVersion: 'any', tenant })],
      ];
      it.each(cases)('rejects %s with InvalidAppend', async (_label, append) => {
        const head = await store.headPosition();
        expect(await rejection(append())).toBeInstanceOf(InvalidAppend);
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
      });
    });

    describe('readAll', () => {
      it('returns every event once, in global order, from an exclusive position, in batches', async () => {
        const tenant = freshTenant();
        const head = await store.headPosition();
        const written: AppendResult[] = [];
        const streams = [freshStream(), freshStream(), freshStream()];
        for (let round = 0; round < 5; round++) {
          for (const s of streams) written.push(await store.append(s, [ev('PrioritySet', { round }), ev('CaseTransferred', { round })], { expectedVersion: round * 2, tenant }));
        }
        const positions = written.flatMap((w) => w.positions);
        const batches: StoredEvent[][] = [];
        for await (const b of store.readAll({ fromPosition: head, batchSize: 7, tenants: [tenant] })) batches.push(b);
        expect(batches.length).toBeGreaterThanOrEqual(5);
        expect(batches.every((b) => b.length <= 7)).toBe(true);
        const all = batches.flat();
        expect(all.map((e) => e.position)).toEqual(positions);

        const fromMiddle = await collect(store.readAll({ fromPosition: positions[9], tenants: [tenant] }));
        expect(fromMiddle.map((e) => e.position)).toEqual(positions.slice(10));
        const upTo = await collect(store.readAll({ fromPosition: head, toPosition: positions[4], tenants: [tenant] }));
        expect(upTo.map((e) => e.position)).toEqual(positions.slice(0, 5));
        const onlyTransfers = await collect(store.readAll({ fromPosition: head, types: ['CaseTransferred'], tenants: [tenant] }));
        expect(onlyTransfers).toHaveLength(15);
        expect(onlyTransfers.every((e) => e.type === 'CaseTransferred')).toBe(true);
      });

      it('filters by tenant', async () => {
        const [a, b] = [freshTenant(), freshTenant()];
        const head = await store.headPosition();
        await store.append(freshStream(), [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant: a });
        await store.append(freshStream(), [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant: b });
        await store.append(freshStream(), [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant: a });
        expect((await collect(store.readAll({ fromPosition: head, tenants: [a] }))).map((e) => e.tenant)).toEqual([a, a]);
        expect((await collect(store.readAll({ fromPosition: head, tenants: [a, b] }))).map((e) => e.tenant)).toEqual([a, b, a]);
      });
    });

    describe('upcasting', () => {
      it('lifts old schema versions on readStream, readAll and subscribe, in a chain', async () => {
        const type = `Upcast${randomUUID().replace(/-/g, '').slice(0, 12)}`;
        store.registerUpcaster(type, 1, (data) => ({ fullName: `${String(data.first)} ${String(data.last)}` }));
        store.registerUpcaster(type, 2, (data, meta) => ({ ...data, since: meta.metadata.effectiveDate ?? 'unknown' }));
        const tenant = freshTenant();
        const stream = freshStream();
        const head = await store.headPosition();
        await store.append(
          stream,
          [
            { type, schemaVersion: 1, data: { first: 'Anna', last: 'Berg' }, metadata: { actor: 'a', effectiveDate: '2025-03-01' } },
            { type, schemaVersion: 2, data: { fullName: 'Bo Ek' }, metadata: { actor: 'a' } },
            { type, schemaVersion: 3, data: { fullName: 'Cia Ny', since: '2026-01-01' }, metadata: { actor: 'a' } },
          ],
          { expectedVersion: 'no_stream', tenant },
        );
        const expected = [
          { schemaVersion: 3, data: { fullName: 'Anna Berg', since: '2025-03-01' } },
          { schemaVersion: 3, data: { fullName: 'Bo Ek', since: 'unknown' } },
          { schemaVersion: 3, data: { fullName: 'Cia Ny', since: '2026-01-01' } },
        ];
        expect(await store.readStream(stream)).toMatchObject(expected);
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toMatchObject(expected);
        const sub = store.subscribe({ fromPosition: head, tenants: [tenant] });
        const got: StoredEvent[] = [];
        for await (const b of sub) {
          got.push(...b);
          if (got.length >= 3) break;
        }
        await sub.close();
        expect(got).toMatchObject(expected);
      });
    });

    describe('subscribe', () => {
      it('catches up, then delivers new events live within milliseconds', async () => {
        const tenant = freshTenant();
        const head = await store.headPosition();
        const stream = freshStream();
        await store.append(stream, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const sub = store.subscribe({ fromPosition: head, tenants: [tenant] });
        const it = sub[Symbol.asyncIterator]();
        const first = await it.next();
        expect((first.value as StoredEvent[]).map((e) => e.type)).toEqual(['CaseRegistered']);
        // Give the subscription time to settle into waiting, then measure how fast a commit arrives.
        await sleep(200);
        const lags: number[] = [];
        for (let i = 0; i < 5; i++) {
          const next = it.next();
          const started = performance.now();
          await store.append(stream, [ev('PrioritySet', { i })], { expectedVersion: i + 1, tenant });
          const got = await next;
          lags.push(performance.now() - started);
          expect((got.value as StoredEvent[]).map((e) => e.data.i)).toEqual([i]);
          await sleep(50);
        }
        await sub.close();
        // Far below any polling interval: the subscriber was woken by the commit.
        expect(Math.min(...lags)).toBeLessThan(250);
        expect((await it.next()).done).toBe(true);
      });
    });

    describe('bulk import', () => {
      it('imports many streams at once, in order, readable like appended events', async () => {
        const tenant = freshTenant();
        const head = await store.headPosition();
        const existing = freshStream();
        await store.append(existing, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const streams = Array.from({ length: 50 }, () => freshStream('import'));
        const result = await store.appendBulk([
          ...streams.map((stream, s) => ({
            stream,
            tenant,
            expectedVersion: 'no_stream' as const,
            events: Array.from({ length: 20 }, (_, i) => ev('BenefitMonthRecorded', { s, i, text: 'tab\there, newline\nthere, back\\slash "quote" ö' })),
          })),
          { stream: existing, tenant, expectedVersion: 1, events: [ev('CaseClosed')] },
        ]);
        expect(result.events).toBe(1001);
        const all = await collect(store.readAll({ fromPosition: head, tenants: [tenant] }));
        expect(all).toHaveLength(1002);
        expect(all[all.length - 1].position).toBe(result.lastPosition);
        const one = await store.readStream(streams[7]);
        expect(one.map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(one[3].data).toEqual({ s: 7, i: 3, text: 'tab\there, newline\nthere, back\\slash "quote" ö' });
        expect(await store.streamVersion(streams[49])).toBe(20);
        expect(await store.streamVersion(existing)).toBe(2);
        const next = await store.append(streams[0], [ev('CaseClosed')], { expectedVersion: 20, tenant });
        expect(next.nextExpectedVersion).toBe(21);
      });

      it('reads an import back exactly: long streams, version ranges, pages ending inside it, filters, knownAt', async () => {
        const tenant = freshTenant();
        const head = await store.headPosition();
        const earlier = new Date();
        await sleep(5);
        const long = freshStream('import');
        const withIds = freshStream('import');
        const short = Array.from({ length: 5 }, () => freshStream('import'));
        const given = [randomUUID(), randomUUID()];
        const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
        const result = await store.appendBulk([
          { stream: short[0], tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered', { s: 0 })] },
          { stream: long, tenant, expectedVersion: 'no_stream', events: range(0, 249).map((i) => ev(i % 3 === 0 ? 'PrioritySet' : 'BenefitMonthRecorded', { i })) },
          { stream: withIds, tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered', {}, { id: given[0] }), ev('CaseClosed', {}, { id: given[1] })] },
          ...short.slice(1).map((stream, s) => ({ stream, tenant, expectedVersion: 'no_stream' as const, events: range(0, 2).map((i) => ev('BenefitMonthRecorded', { s, i })) })),
        ]);
        expect(result.events).toBe(1 + 250 + 2 + 12);

        const whole = await store.readStream(long);
        expect(whole.map((e) => e.version)).toEqual(range(1, 250));
        expect(whole.map((e) => e.data.i)).toEqual(range(0, 249));
        for (let i = 1; i < whole.length; i++) expect(whole[i].position).toBeGreaterThan(whole[i - 1].position);
        expect(new Set(whole.map((e) => e.id)).size).toBe(250);
        expect(whole.every((e) => e.stream === long && e.tenant === tenant && e.schemaVersion === 1 && e.metadata.actor === 'test:contract')).toBe(true);
        const mid = await store.readStream(long, { fromVersion: 95, toVersion: 205 });
        expect(mid.map((e) => e.version)).toEqual(range(95, 205));
        expect(mid).toEqual(whole.slice(94, 205));
        expect((await store.readStream(withIds)).map((e) => e.id)).toEqual(given);

        // Pages of 7 (which end inside streams), with and without the tenant filter.
        const paged = await collect(store.readAll({ fromPosition: head, tenants: [tenant], batchSize: 7 }));
        expect(paged).toHaveLength(result.events);
        for (let i = 1; i < paged.length; i++) expect(paged[i].position).toBeGreaterThan(paged[i - 1].position);
        expect(paged.filter((e) => e.stream === long)).toEqual(whole);
        const unfiltered = (await collect(store.readAll({ fromPosition: head, toPosition: result.lastPosition, batchSize: 7 }))).filter((e) => e.tenant === tenant);
        expect(unfiltered).toEqual(paged);
        const cut = whole[120].position;
        const upTo = await collect(store.readAll({ fromPosition: head, tenants: [tenant], toPosition: cut, batchSize: 50 }));
        expect(upTo).toEqual(paged.slice(0, 1 + 121));
        const fromInside = await collect(store.readAll({ fromPosition: whole[9].position, tenants: [tenant], batchSize: 100 }));
        expect(fromInside).toEqual(paged.slice(1 + 10));
        const priorities = await collect(store.readAll({ fromPosition: head, tenants: [tenant], types: ['PrioritySet'], batchSize: 10 }));
        expect(priorities.map((e) => e.data.i)).toEqual(range(0, 249).filter((i) => i % 3 === 0));

        // Known then: nothing of the import before it, all of it from its recordedAt.
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant], knownAt: earlier }))).toEqual([]);
        expect(await rejection(store.readStream(long, { knownAt: earlier }))).toBeInstanceOf(StreamNotFound);
        expect(await store.readStream(long, { knownAt: whole[0].recordedAt })).toEqual(whole);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(result.lastPosition);
      });

      if (capabilities.uniqueEventIdsAcrossStreams) {
        it('knows the ids of imported events: a retry naming them is answered as stored, a reuse elsewhere is rejected', async () => {
          const tenant = freshTenant();
          const stream = freshStream('import');
          await store.appendBulk([{ stream, tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered'), ev('PrioritySet'), ev('CaseClosed')] }]);
          const stored = await store.readStream(stream);
          const head = await store.headPosition();
          const retry = await store.append(stream, stored.map((e) => ev(e.type, e.data, { id: e.id })), { expectedVersion: 'no_stream', tenant });
          expect(retry.positions).toEqual(stored.map((e) => e.position));
          expect(retry.nextExpectedVersion).toBe(3);
          const other = freshStream();
          expect(await rejection(store.append(other, [ev('CaseRegistered', {}, { id: stored[1].id })], { expectedVersion: 'no_stream', tenant }))).toBeInstanceOf(InvalidAppend);
          expect(await rejection(store.append(stream, [ev('CaseClosed', {}, { id: stored[2].id }), ev('CaseReopened')], { expectedVersion: 'any', tenant }))).toBeInstanceOf(InvalidAppend);
          expect(await rejection(store.appendBulk([{ stream: other, tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered', {}, { id: stored[0].id })] }]))).toBeInstanceOf(InvalidAppend);
          expect(await store.streamVersion(other)).toBe(0);
          expect(await store.streamVersion(stream)).toBe(3);
          expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
        });
      }

      it('writes nothing when one stream of the import has a wrong expected version', async () => {
        const tenant = freshTenant();
        const taken = freshStream();
        await store.append(taken, [ev('CaseRegistered')], { expectedVersion: 'no_stream', tenant });
        const head = await store.headPosition();
        const e = await rejection(
          store.appendBulk([
            { stream: freshStream(), tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered')] },
            { stream: taken, tenant, expectedVersion: 'no_stream', events: [ev('CaseRegistered')] },
          ]),
        );
        expect(e).toBeInstanceOf(WrongExpectedVersion);
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
      });

      it('writes nothing when an event deep inside the import is bad', async () => {
        const tenant = freshTenant();
        const head = await store.headPosition();
        const appends = Array.from({ length: 30 }, (_, s) => ({
          stream: freshStream('import'),
          tenant,
          expectedVersion: 'no_stream' as const,
          events: Array.from({ length: 10 }, (_, i) => ev('BenefitMonthRecorded', s === 25 && i === 5 ? { blob: 'x'.repeat(1_100_000) } : { i })),
        }));
        expect(await rejection(store.appendBulk(appends))).toBeInstanceOf(InvalidAppend);
        const duplicateId = randomUUID();
        appends[25].events[5] = ev('BenefitMonthRecorded', {}, { id: duplicateId });
        appends[27].events[2] = ev('BenefitMonthRecorded', {}, { id: duplicateId });
        expect(await rejection(store.appendBulk(appends))).toBeInstanceOf(InvalidAppend);
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
        expect(await store.streamVersion(appends[0].stream)).toBe(0);
      });

      it('writes nothing twice when an import is retried', async () => {
        const tenant = freshTenant();
        const batch = [{ stream: freshStream(), tenant, expectedVersion: 'any' as const, events: [ev('CaseRegistered', {}, { id: randomUUID() })] }];
        await store.appendBulk(batch);
        const head = await store.headPosition();
        // Rejected (PostgreSQL) or answered as already done (KurrentDB's idempotent append): either
        // way nothing is stored twice.
        await store.appendBulk(batch).catch((e: unknown) => expect(e).toBeInstanceOf(InvalidAppend));
        expect(await collect(store.readAll({ fromPosition: head, tenants: [tenant] }))).toEqual([]);
        expect(await store.streamVersion(batch[0].stream)).toBe(1);
      });
    });

    describe('no lost or skipped events under concurrency', () => {
      it('gives concurrent readAll and subscribe consumers every event of 16 slow concurrent writers and a bulk importer exactly once, in stream order', async () => {
        const durationMs = Number(process.env.CONTRACT_WRITERS_MS ?? 3000);
        const tenant = freshTenant();
        const head = await store.headPosition();
        const written = new Map<string, number>(); // id → position
        const imported = new Set<number>(); // positions of bulk-imported events (their ids are generated)
        let stop = false;
        let writersDone = false;

        // Random delays inside the writing transactions (through an inline projection, which the
        // PostgreSQL adapter runs in the append's transaction, before its append lock), and some
        // plain appends that take the batched path, so slow and fast transactions interleave.
        const writer = async (w: number) => {
          const streams = [freshStream(`w${w}a`), freshStream(`w${w}b`)];
          const versions = [0, 0];
          let n = 0;
          while (!stop) {
            const k = n % 2;
            const events = Array.from({ length: 1 + (n % 3) }, () => ev('PrioritySet', { w, n }, { id: randomUUID() }));
            const slow = fx.transactionalInline && Math.random() < 0.5;
            const r = await store.append(streams[k], events, {
              expectedVersion: versions[k],
              tenant,
              inline: slow ? () => sleep(Math.random() * 15) : undefined,
            });
            versions[k] = r.nextExpectedVersion;
            events.forEach((e, i) => written.set(e.id!, r.positions[i]));
            n++;
            if (!slow) await sleep(Math.random() * 5);
          }
        };

        // Imports of a few streams of up to 40 events each (stored in chunks by PostgreSQL), between
        // and beside the appends.
        const importer = async () => {
          let n = 0;
          while (!stop) {
            const appends = Array.from({ length: 1 + (n % 3) }, (_, s) => ({
              stream: freshStream(`bulk${n}-${s}`),
              tenant,
              expectedVersion: 'no_stream' as const,
              events: Array.from({ length: 1 + Math.floor(Math.random() * 40) }, (_, i) => ev('BenefitMonthRecorded', { n, s, i })),
            }));
            const r = await store.appendBulk(appends);
            for (let p = r.firstPosition; p <= r.lastPosition; p++) imported.add(p);
            n++;
            await sleep(Math.random() * 20);
          }
        };

        const pollingConsumer = async (): Promise<StoredEvent[]> => {
          const seen: StoredEvent[] = [];
          let checkpoint = head;
          for (;;) {
            const finished = writersDone;
            for await (const batch of store.readAll({ fromPosition: checkpoint, batchSize: 13, tenants: [tenant] })) {
              seen.push(...batch);
              checkpoint = batch[batch.length - 1].position;
            }
            if (finished) return seen;
            await sleep(Math.random() * 10);
          }
        };

        const subscribingConsumer = async (): Promise<StoredEvent[]> => {
          const seen: StoredEvent[] = [];
          const sub = store.subscribe({ fromPosition: head, tenants: [tenant], batchSize: 50 });
          const target = new Promise<void>((resolve) => {
            const check = setInterval(() => {
              if (writersDone && seen.length >= written.size + imported.size) {
                clearInterval(check);
                resolve();
              }
            }, 20);
          });
          void target.then(() => sub.close());
          for await (const batch of sub) seen.push(...batch);
          return seen;
        };

        const writers = [...Array.from({ length: 16 }, (_, w) => writer(w)), importer()];
        const consumers = [pollingConsumer(), subscribingConsumer()];
        await sleep(durationMs);
        stop = true;
        await Promise.all(writers);
        writersDone = true;
        const [polled, subscribed] = await Promise.all(consumers);

        expect(written.size).toBeGreaterThan(16 * 5);
        expect(imported.size).toBeGreaterThan(0);
        for (const seen of [polled, subscribed]) {
          const ids = seen.map((e) => e.id);
          expect(new Set(ids).size).toBe(ids.length); // exactly once
          const appended = seen.filter((e) => written.has(e.id));
          expect(new Set(appended.map((e) => e.id))).toEqual(new Set(written.keys())); // nothing lost
          for (const e of appended) expect(e.position).toBe(written.get(e.id)); // the position append returned
          expect(new Set(seen.filter((e) => !written.has(e.id)).map((e) => e.position))).toEqual(imported); // nor imported
          for (let i = 1; i < seen.length; i++) expect(seen[i].position).toBeGreaterThan(seen[i - 1].position);
          const lastVersion = new Map<string, number>();
          for (const e of seen) {
            expect(e.version).toBe((lastVersion.get(e.stream) ?? 0) + 1); // stream order, no gaps
            lastVersion.set(e.stream, e.version);
          }
        }
      });
    });
  });
}
