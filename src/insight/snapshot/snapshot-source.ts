import { Inject, Injectable } from '@nestjs/common';
import { QUESTIONNAIRE_V1, type Question, type Questionnaire } from '../../questionnaires/questionnaire.js';
import { EVENT_STORE, StreamNotFound, type EventStore, type SqlExecutor } from '../../shared/event-store/event-store.port.js';
import { Problem } from '../../shared/http/problem.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { streams } from '../../shared/streams.js';
import { ERASED_CASES, erasedCaseIds } from '../../admin/erasure/erased-cases.projection.js';
import { FactsAccumulator } from './case-facts.js';
import { computeRowsFromFacts, ROUND_COLUMNS, ROUND_SNAPSHOTS, toRoundRow, type RoundRow } from './round-snapshot.projection.js';
import { snapshotRow, type SnapshotRow } from './snapshot-row.js';

/**
 * Which version of a round's snapshot to read (API.md `knownAt=close|now|<timestamp>`):
 * - `close`: the frozen snapshot, as known when the round was closed;
 * - `now`: recomputed from everything known now, later corrections included;
 * - a timestamp: recomputed from the events recorded by then (a replay of the log);
 * - a position: recomputed from the events up to it (how a `now` list keeps one view across pages).
 */
export type KnownAt = { kind: 'close' } | { kind: 'now' } | { kind: 'at'; at: Date } | { kind: 'position'; position: number };

/** One round's snapshot in memory, rows sorted by case id. */
export interface SnapshotFrame {
  /** Unique per frame object: aggregates of a frame are memoised under it (frames never change). */
  id: number;
  tenant: string;
  round: RoundRow;
  questionnaire: Questionnaire;
  /** What was asked for, resolved: `close`, `now`, or the ISO timestamp. */
  knownAt: string;
  frozen: boolean;
  /** The last global position the rows reflect. */
  position: number;
  rows: SnapshotRow[];
}

/** `?knownAt=` → KnownAt; undefined when absent (each endpoint picks its default). */
export function parseKnownAt(value: unknown, param = 'knownAt'): KnownAt | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'close') return { kind: 'close' };
  if (value === 'now') return { kind: 'now' };
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return { kind: 'at', at };
  }
  throw Problem.badRequest(`${param} must be close, now, or a timestamp with offset (e.g. 2026-04-01T12:00:00+02:00).`, [
    { path: param, message: 'must be close, now, or an ISO 8601 timestamp with offset' },
  ]);
}

const CACHE_ROWS = 120_000;
const MEMO_ENTRIES = 500;
let frameIds = 0;
const nextFrameId = () => ++frameIds;

/** Frames are sorted by case id in JavaScript's order (paging compares with it), never the database collation's. */
export const byCaseId = (x: SnapshotRow, y: SnapshotRow) => (x.caseId < y.caseId ? -1 : x.caseId > y.caseId ? 1 : 0);

/**
 * Reads snapshots for every insight endpoint. Frozen snapshots never change, so they are cached
 * in memory (bounded by rows) under their round and freeze position; so are recomputed views of a
 * fixed position. A `now` view is recomputed from the projection's facts (about a second for
 * 10,000 cases) and a timestamp view replays the municipality's log (longer; it is the
 * evaluator's "as it was known then").
 */
@Injectable()
export class SnapshotSource {
  private readonly cache = new Map<string, SnapshotFrame>();
  private readonly memos = new Map<string, unknown>();
  private cachedRows = 0;

  constructor(
    private readonly engine: ProjectionEngine,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  read<T>(fn: (tx: SqlExecutor) => Promise<T>, minPosition?: number): Promise<T> {
    return this.engine.read(ROUND_SNAPSHOTS, fn, minPosition);
  }

  /** Waits until the projection has seen every event of the municipality's rounds stream (a few events). */
  async awaitRounds(tenant: string): Promise<void> {
    let last = 0;
    try {
      const events = await this.store.readStream(streams.rounds(tenant));
      last = events[events.length - 1]?.position ?? 0;
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
    }
    if (last > 0) await this.engine.waitFor(ROUND_SNAPSHOTS, last);
  }

  /** Every round of the municipality known to the read side, by reference date. */
  async rounds(tenant: string, minPosition?: number): Promise<RoundRow[]> {
    if (minPosition !== undefined) await this.engine.waitFor(ROUND_SNAPSHOTS, minPosition);
    await this.awaitRounds(tenant);
    return this.read(async (tx) => {
      const { rows } = await tx.query(`SELECT ${ROUND_COLUMNS} FROM insight_rounds WHERE tenant = $1 ORDER BY reference_date, label`, [tenant]);
      return rows.map(toRoundRow);
    });
  }

  /** The round, or 404 (also for a malformed id, and for a round of another municipality). */
  async round(tenant: string, roundId: string, minPosition?: number, param = 'id'): Promise<RoundRow> {
    return (await this.roundsById(tenant, [roundId], minPosition, param))[0]!;
  }

  /** Several rounds with one read of the municipality's rounds; 404 naming `param` for the first unknown. */
  async roundsById(tenant: string, roundIds: readonly string[], minPosition?: number, param: string | readonly string[] = 'id'): Promise<RoundRow[]> {
    const all = await this.rounds(tenant, minPosition);
    return roundIds.map((id, i) => {
      const found = all.find((r) => r.roundId === id);
      if (!found) throw new Problem(404, 'round-not-found', `Round ${id} not found.`, { param: typeof param === 'string' ? param : param[i] });
      return found;
    });
  }

  async questionnaire(tenant: string, version: number): Promise<Questionnaire> {
    if (version === QUESTIONNAIRE_V1.version) return QUESTIONNAIRE_V1;
    const { rows } = await this.read((tx) => tx.query<{ questions: Question[] }>('SELECT questions FROM insight_questionnaires WHERE tenant = $1 AND version = $2', [tenant, version]));
    if (!rows[0]) throw new Error(`Questionnaire version ${version} of ${tenant} is not in the read model`);
    return { version, questions: rows[0].questions };
  }

  /** The default: the frozen snapshot of a closed round, the live view of an open one. */
  defaultKnownAt(round: RoundRow): KnownAt {
    return round.closedPosition !== null ? { kind: 'close' } : { kind: 'now' };
  }

  async frame(tenant: string, round: RoundRow, knownAt: KnownAt = this.defaultKnownAt(round)): Promise<SnapshotFrame> {
    const questionnaire = await this.questionnaire(tenant, round.questionnaireVersion);
    switch (knownAt.kind) {
      case 'close': {
        if (round.closedPosition === null) {
          throw Problem.conflict('round-not-closed', `Round "${round.label}" is still open: it has no frozen snapshot yet. Use knownAt=now for the live view.`);
        }
        const key = `${tenant}|${round.roundId}|close|${round.closedPosition}|${round.erasedPosition}`;
        return this.cached(key, async () => {
          const rows = await this.read(async (tx) => {
            const r = await tx.query<{ row: SnapshotRow }>('SELECT row FROM snapshot_rows WHERE tenant = $1 AND round_id = $2', [tenant, round.roundId]);
            return r.rows.map((x) => x.row).sort(byCaseId);
          });
          return { id: nextFrameId(), tenant, round, questionnaire, knownAt: 'close', frozen: true, position: round.closedPosition! - 1, rows };
        });
      }
      case 'now': {
        const { rows, position } = await this.read(async (tx) => {
          const p = await tx.query<{ position: string; closed: boolean }>(
            'SELECT position, (SELECT closed_position IS NOT NULL FROM insight_rounds WHERE tenant = $1 AND round_id = $2) AS closed FROM public.projections WHERE schema_name = current_schema()',
            [tenant, round.roundId],
          );
          // An open round's rows are kept live by the projection; a closed one's are frozen, so its
          // "now" is folded again from the facts.
          const live = p.rows[0]?.closed === false ? (await tx.query<{ row: SnapshotRow }>('SELECT row FROM snapshot_rows WHERE tenant = $1 AND round_id = $2', [tenant, round.roundId])).rows.map((x) => x.row).sort(byCaseId) : undefined;
          return { rows: live ?? (await computeRowsFromFacts(tx, tenant, round)), position: Number(p.rows[0]?.position ?? 0) };
        });
        const frame: SnapshotFrame = { id: nextFrameId(), tenant, round, questionnaire, knownAt: 'now', frozen: false, position, rows };
        this.remember(`${tenant}|${round.roundId}|position|${position}|${round.erasedPosition}`, frame);
        return frame;
      }
      case 'position':
        return this.cached(`${tenant}|${round.roundId}|position|${knownAt.position}|${round.erasedPosition}`, async () => ({
          ...(await this.replay(tenant, round, questionnaire, { toPosition: knownAt.position })),
          knownAt: 'now',
        }));
      case 'at': {
        const key = `${tenant}|${round.roundId}|at|${knownAt.at.toISOString()}|${round.erasedPosition}`;
        // A timestamp in the last minute may still gain events being committed: not cached.
        const load = () => this.replay(tenant, round, questionnaire, { knownAt: knownAt.at });
        return knownAt.at.getTime() < Date.now() - 60_000 ? this.cached(key, load) : load();
      }
    }
  }

  /**
   * An aggregate of some frames, computed once: a frame never changes, so the same question
   * (endpoint, parameters, protection) of the same frames has the same answer. Analysis seminars
   * ask the same things of a closed round many times over.
   */
  memo<T>(frames: readonly SnapshotFrame[], question: string, compute: () => T): T {
    const key = `${frames.map((f) => f.id).join(',')}|${question}`;
    if (this.memos.has(key)) {
      const hit = this.memos.get(key) as T;
      this.memos.delete(key);
      this.memos.set(key, hit);
      return hit;
    }
    const value = compute();
    this.memos.set(key, value);
    if (this.memos.size > MEMO_ENTRIES) this.memos.delete(this.memos.keys().next().value!);
    return value;
  }

  /** Recomputes the snapshot from the log itself (events recorded by `knownAt`, or up to `toPosition`). */
  private async replay(tenant: string, round: RoundRow, questionnaire: Questionnaire, limit: { knownAt?: Date; toPosition?: number }): Promise<SnapshotFrame> {
    const acc = new FactsAccumulator(new Set([round.roundId]));
    let roundKnown = false;
    let position = 0;
    for await (const batch of this.store.readAll({ tenants: [tenant], batchSize: 5000, ...limit })) {
      for (const e of batch) {
        if (e.type === 'RoundOpened' && e.data.roundId === round.roundId) roundKnown = true;
        acc.add(e);
      }
      if (batch.length > 0) position = batch[batch.length - 1]!.position;
    }
    if (!roundKnown) throw new Problem(404, 'round-not-found', `Round "${round.label}" was not yet known then.`);
    // An erasure holds for every view, also of times before it: erased cases are left out.
    const erased = await this.erasedCases(tenant);
    const rows: SnapshotRow[] = [];
    for (const facts of acc.cases.values()) {
      if (erased.has(facts.caseId)) continue;
      const row = snapshotRow(facts, acc.assessment(facts.caseId, round.roundId), round);
      if (row) rows.push(row);
    }
    rows.sort(byCaseId);
    const knownAt = limit.knownAt ? limit.knownAt.toISOString() : 'now';
    return { id: nextFrameId(), tenant, round, questionnaire, knownAt, frozen: false, position, rows };
  }

  /** Case ids erased in the municipality (the admin module's inline `erased_cases` view), if that module is present. */
  async erasedCases(tenant: string): Promise<Set<string>> {
    if (!this.engine.projection(ERASED_CASES)) return new Set();
    return this.engine.read(ERASED_CASES, (tx) => erasedCaseIds(tx, tenant));
  }

  private async cached(key: string, load: () => Promise<SnapshotFrame>): Promise<SnapshotFrame> {
    const hit = this.cache.get(key);
    if (hit) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const frame = await load();
    this.remember(key, frame);
    return frame;
  }

  private remember(key: string, frame: SnapshotFrame): void {
    if (frame.rows.length > CACHE_ROWS / 2) return;
    const old = this.cache.get(key);
    if (old) this.cachedRows -= old.rows.length;
    this.cache.delete(key);
    this.cache.set(key, frame);
    this.cachedRows += frame.rows.length;
    for (const [k, f] of this.cache) {
      if (this.cachedRows <= CACHE_ROWS) break;
      this.cache.delete(k);
      this.cachedRows -= f.rows.length;
    }
  }

  /** For erasure: drops every cached frame of the municipality. */
  forget(tenant: string): void {
    for (const [k, f] of this.cache) {
      if (f.tenant !== tenant) continue;
      this.cache.delete(k);
      this.cachedRows -= f.rows.length;
    }
  }
}
