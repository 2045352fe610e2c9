import type { SqlExecutor, StoredEvent } from '../../src/shared/event-store/event-store.port.js';
import type { Projection } from '../../src/shared/projections/projection.js';

/**
 * The engine tests' read model: how many events of each handled type each stream has. Easy to
 * compute straight from the log, so "the read model equals the log" is a precise check.
 *
 * Idempotent per event: the ids it counted are remembered (`counted`), and only new ones are
 * counted — applying a batch twice, or half of it again, changes nothing. By id, not by position:
 * inline, events are applied before the store gives them their positions (EventStore.append).
 * Beside it, `applied` logs every application without that protection, so the tests can see
 * whether the engine itself ever applied an event twice (idempotence would hide it in the counts).
 */
export interface EventCountOptions {
  name?: string;
  version?: number;
  kind?: 'inline' | 'async';
  handles?: string[];
  /** Called per event before writing: throw to play a failing handler. */
  check?: (e: StoredEvent) => void;
  /** Called after the first half of a batch is written, before the rest: throw or stall to play a crash mid-batch. */
  midBatch?: (events: readonly StoredEvent[]) => Promise<void>;
}

export function eventCountProjection(o: EventCountOptions = {}): Projection {
  const write = async (tx: SqlExecutor, events: readonly StoredEvent[]) => {
    if (events.length === 0) return;
    await tx.query(
      `WITH ev AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[]) AS u(stream, type, position, id)),
            fresh_ids AS (INSERT INTO counted (id) SELECT id FROM ev ON CONFLICT (id) DO NOTHING RETURNING id),
            fresh AS (SELECT ev.stream, ev.type, count(*) AS n, max(ev.position) AS last
                        FROM ev JOIN fresh_ids USING (id)
                       GROUP BY ev.stream, ev.type)
       INSERT INTO event_counts (stream, type, count, last_position) SELECT stream, type, n, last FROM fresh ORDER BY stream, type
       ON CONFLICT (stream, type) DO UPDATE SET count = event_counts.count + excluded.count,
                                                last_position = greatest(event_counts.last_position, excluded.last_position)`,
      [events.map((e) => e.stream), events.map((e) => e.type), events.map((e) => e.position), events.map((e) => e.id)],
    );
    // Deliberately not idempotent: an id listed twice here means the engine applied it twice.
    await tx.query('INSERT INTO applied (id) SELECT unnest($1::uuid[])', [events.map((e) => e.id)]);
  };
  return {
    name: o.name ?? 'event_counts',
    version: o.version ?? 1,
    kind: o.kind ?? 'async',
    handles: o.handles ?? ['A', 'B', 'C'],
    async setup(tx) {
      await tx.query(`CREATE TABLE event_counts (stream text NOT NULL, type text NOT NULL, count bigint NOT NULL, last_position bigint NOT NULL, PRIMARY KEY (stream, type))`);
      await tx.query('CREATE TABLE counted (id uuid PRIMARY KEY)');
      await tx.query('CREATE TABLE applied (id uuid NOT NULL)');
    },
    async apply(tx, events) {
      if (o.check) for (const e of events) o.check(e);
      // Rows locked in one order, (stream, type), across both halves: concurrent inline appends to
      // one stream with their types in opposite orders deadlocked (one append failed, 40P01).
      events = [...events].sort((x, y) => (x.stream === y.stream ? (x.type < y.type ? -1 : x.type > y.type ? 1 : 0) : x.stream < y.stream ? -1 : 1));
      const half = Math.ceil(events.length / 2);
      await write(tx, events.slice(0, half));
      if (o.midBatch) await o.midBatch(events);
      await write(tx, events.slice(half));
    },
  };
}

/** What the read model must hold: counted straight from the log. */
export function countsOf(events: readonly StoredEvent[], handles = ['A', 'B', 'C']): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) if (handles.includes(e.type)) m.set(`${e.stream}|${e.type}`, (m.get(`${e.stream}|${e.type}`) ?? 0) + 1);
  return m;
}

export async function readCounts(tx: SqlExecutor): Promise<Map<string, number>> {
  const { rows } = await tx.query<{ stream: string; type: string; count: string }>('SELECT stream, type, count FROM event_counts');
  return new Map(rows.map((r) => [`${r.stream}|${r.type}`, Number(r.count)]));
}

export function sorted(m: Map<string, number>): [string, number][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Every handled event of the log applied exactly once by the engine (not merely absorbed by idempotence). */
export async function appliedOnce(tx: SqlExecutor, log: readonly StoredEvent[], handles = ['A', 'B', 'C']): Promise<{ total: number; distinct: number; expected: number }> {
  const { rows } = await tx.query<{ total: string; distinct: string }>('SELECT count(*) AS total, count(DISTINCT id) AS distinct FROM applied');
  return { total: Number(rows[0]!.total), distinct: Number(rows[0]!.distinct), expected: log.filter((e) => handles.includes(e.type)).length };
}
