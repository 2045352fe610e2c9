import type { SqlExecutor, StoredEvent } from '../event-store/event-store.port.js';

/**
 * A read model made from the event log. The engine gives `setup` and `apply` a transaction whose
 * `search_path` is the projection's own schema (then `public`), so handlers use unqualified table
 * names and the same code writes the live version, a rebuild beside it, or a time-travel copy.
 *
 * `apply` must be idempotent: applying a batch it has already applied leaves the rows unchanged
 * (e.g. guard upserts with the event's position). The engine never applies an event twice
 * (checkpoint in the same transaction), but idempotence is what makes that a second line of defence
 * instead of the only one.
 */
export interface Projection {
  /** Stable name, `[a-z][a-z0-9_]*`, at most 40 characters (it becomes part of a schema name). */
  readonly name: string;
  /** Bump it when `setup` or `apply` change meaning: the new version is rebuilt beside the live one. */
  readonly version: number;
  /** Event types it reads; `apply` only ever sees these. */
  readonly handles: readonly string[];
  /**
   * `inline`: written in the append's own transaction (never lags; for views that commands rely on).
   * `async`: written by a background runner in batches (for views that may lag by milliseconds).
   */
  readonly kind: 'inline' | 'async';
  /** Creates the read model's tables in the (empty) schema the transaction points at. */
  setup(tx: SqlExecutor): Promise<void>;
  /** Writes the rows for these events, in position order, with plain SQL in the given transaction. */
  apply(tx: SqlExecutor, events: readonly StoredEvent[]): Promise<void>;
}

const NAME = /^[a-z][a-z0-9_]{0,39}$/;

export function assertValidProjection(p: Projection): void {
  if (!NAME.test(p.name)) throw new Error(`Projection name "${p.name}" must match ${NAME}`);
  if (!Number.isInteger(p.version) || p.version < 1) throw new Error(`Projection ${p.name}: version must be a positive integer`);
  if (p.handles.length === 0) throw new Error(`Projection ${p.name} handles no event types`);
  if (p.kind !== 'inline' && p.kind !== 'async') throw new Error(`Projection ${p.name}: kind must be inline or async`);
}
