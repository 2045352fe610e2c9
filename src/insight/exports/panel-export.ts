import { Injectable } from '@nestjs/common';
import { QUESTIONNAIRE_V1, type Questionnaire } from '../../questionnaires/questionnaire.js';
import { Problem } from '../../shared/http/problem.js';
import type { RoundRow } from '../snapshot/round-snapshot.projection.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';
import { type KnownAt, SnapshotSource } from '../snapshot/snapshot-source.js';
import { fragmentItems, itemOf, panelColumns, panelEncoder, type CodebookColumn, type PanelItem } from './panel.js';


interface MunicipalityPlan {
  municipality: string;
  /** Every round up to the last exported one, by reference date (earlier ones decide firstRound). */
  rounds: { round: RoundRow; view: KnownAt; exported: boolean; questionnaire: Questionnaire }[];
}

export interface PanelPlan {
  columns: CodebookColumn[];
  municipalities: MunicipalityPlan[];
  rows?: number;
}

/**
 * Plans and streams the panel. Everything that can fail is checked in `plan`, before the first
 * byte is sent (afterwards an error can only cut the stream). Memory stays flat: a frozen round
 * is read in pages straight from its snapshot rows; a recomputed one (knownAt=now or a
 * timestamp) is held one round at a time. What grows with the data is one pseudonym → first
 * round map per municipality.
 */
@Injectable()
export class PanelExporter {
  /** Rows per page read (and per Parquet row group). Tests make it small to cross page boundaries. */
  pageSize = 5000;

  constructor(private readonly source: SnapshotSource) {}

  async plan(municipalities: readonly string[], selectors: readonly string[], knownAt: KnownAt | undefined): Promise<PanelPlan> {
    const matched = new Set<string>();
    const plans: MunicipalityPlan[] = [];
    for (const m of municipalities) {
      const all = await this.source.rounds(m);
      const chosen = all.filter((r) => {
        if (selectors.length === 0) return knownAt?.kind !== 'close' || r.closedPosition !== null;
        const hit = selectors.find((s) => s === r.roundId || s.toLocaleLowerCase('sv') === r.label.toLocaleLowerCase('sv'));
        if (hit) matched.add(hit);
        return hit !== undefined;
      });
      for (const r of chosen) {
        if (knownAt?.kind === 'close' && r.closedPosition === null) {
          throw Problem.conflict('round-not-closed', `Round "${r.label}" of ${m} is still open: it has no frozen snapshot. Use knownAt=now, or leave it out.`);
        }
      }
      const last = chosen[chosen.length - 1];
      const upTo = last ? all.slice(0, all.indexOf(last) + 1) : [];
      const rounds = [];
      for (const r of upTo) {
        const view = knownAt ?? this.source.defaultKnownAt(r);
        // Earlier rounds only tell who was open when; an open one has no frozen rows for that.
        rounds.push({ round: r, view: view.kind === 'close' && r.closedPosition === null ? ({ kind: 'now' } as const) : view, exported: chosen.includes(r), questionnaire: await this.source.questionnaire(m, r.questionnaireVersion) });
      }
      plans.push({ municipality: m, rounds });
    }
    const unmatched = selectors.filter((s) => !matched.has(s));
    if (unmatched.length > 0) {
      throw Problem.badRequest(`rounds: ${unmatched.join(', ')} matched no round.`, [{ path: 'rounds', message: `${unmatched.map((s) => `"${s}"`).join(', ')} is not the id or label of a round of the municipalities` }]);
    }
    const questionnaires = plans.flatMap((p) => p.rounds.filter((r) => r.exported).map((r) => r.questionnaire));
    return { columns: panelColumns(questionnaires.length > 0 ? questionnaires : [QUESTIONNAIRE_V1]), municipalities: plans };
  }

  async *records(plan: PanelPlan): AsyncGenerator<PanelItem[]> {
    for (const m of plan.municipalities) {
      const firstRound = new Map<string, string>();
      for (const { round, view, exported, questionnaire } of m.rounds) {
        const ctx = { municipality: m.municipality, roundId: round.roundId, label: round.label, referenceDate: round.referenceDate, questionnaire, firstRound: undefined };
        const emit = <R extends PersonRow>(rows: readonly R[], make: (row: R, firstRound: string) => PanelItem): PanelItem[] => {
          const out: PanelItem[] = [];
          for (const r of rows) {
            // A person enters the panel in their first round and stays, also after their case closed.
            let first = firstRound.get(r.pseudonym);
            if (first === undefined && r.status === 'open') firstRound.set(r.pseudonym, (first = round.label));
            if (exported && first !== undefined) out.push(make(r, first));
          }
          return out;
        };
        if (view.kind === 'close') {
          const item = exported ? fragmentItems(ctx, plan.columns) : undefined;
          const make = (r: FrozenRow, first: string) => item!(r.pseudonym, r.panel!, first);
          for await (const page of this.frozenPages(m.municipality, round, exported)) {
            const out = emit(page, make);
            if (out.length > 0) yield out;
          }
        } else {
          const frame = await this.source.frame(m.municipality, round, view);
          const encode = panelEncoder(ctx, plan.columns);
          const make = (r: SnapshotRow, first: string) => itemOf(encode(r, first));
          const persons = onePerPerson(frame.rows);
          for (let i = 0; i < persons.length; i += this.pageSize) {
            const out = emit(persons.slice(i, i + this.pageSize), make);
            if (out.length > 0) yield out;
          }
        }
      }
    }
  }

  /**
   * One row per person (their open case, else their latest), by pseudonym, a page at a time. Pages
   * follow the index (pseudonym, case id) and nothing else, so no page sorts or reads more than its
   * own rows; a person whose cases straddle two pages is held back to the next. Each row's panel
   * values were laid out when it was written (panelValues): reading them is one short string per
   * row, where taking the JSON row apart was most of the export's time. Without `full`, only who
   * was open. Erased rows (pseudonym '', insight-erasure.ts) are not read.
   */
  private async *frozenPages(municipality: string, round: RoundRow, full: boolean): AsyncGenerator<FrozenRow[]> {
    // The rows as node-postgres makes them are what paging needs: no object of our own per row.
    const select = `pseudonym, case_id AS "caseId", status, registered_on AS "registeredOn"${full ? ', panel' : ''}`;
    let carry: FrozenRow[] = [];
    const size = full ? this.pageSize : this.pageSize * 4;
    const fetch = (after: [string, string]) =>
      this.source.read(async (tx) => {
        const r = await tx.query<FrozenRow>(
          `SELECT ${select} FROM snapshot_rows
            WHERE tenant = $1 AND round_id = $2 AND (pseudonym, case_id) > ($3, $4) AND pseudonym <> ''${full ? '' : " AND status = 'open'"}
            ORDER BY pseudonym, case_id LIMIT ${size}`,
          [municipality, round.roundId, after[0], after[1]],
        );
        return r.rows;
      });
    let next = fetch(['', '']);
    for (;;) {
      const rows = await next;
      if (rows.length === 0) {
        if (carry.length > 0) yield onePerPerson(carry);
        return;
      }
      const last = rows[rows.length - 1]!;
      // The next page is read while this one is encoded and sent.
      next = fetch([last.pseudonym, last.caseId]);
      next.catch(() => undefined);
      const all = [...carry, ...rows];
      carry = all.filter((r) => r.pseudonym === last.pseudonym);
      const complete = all.filter((r) => r.pseudonym !== last.pseudonym);
      if (complete.length > 0) yield onePerPerson(complete);
    }
  }
}

/** What choosing one row per person and firstRound need of a row. */
interface PersonRow {
  pseudonym: string;
  status: 'open' | 'closed';
  registeredOn: string;
  erased?: boolean;
}

/** A frozen snapshot row as paging reads it; `panel` (panelValues) only when the round is exported. */
interface FrozenRow extends PersonRow {
  caseId: string;
  panel?: string;
}

/** A person's open case, else their latest registered one; erased rows never. Sorted by pseudonym. */
export function onePerPerson<R extends { pseudonym: string; status: string; registeredOn: string; erased?: boolean }>(rows: readonly R[]): R[] {
  const best = new Map<string, R>();
  for (const r of rows) {
    if (r.erased) continue;
    const prev = best.get(r.pseudonym);
    if (!prev || (prev.status !== 'open' && (r.status === 'open' || r.registeredOn > prev.registeredOn))) best.set(r.pseudonym, r);
  }
  return [...best.values()].sort((a, b) => (a.pseudonym < b.pseudonym ? -1 : a.pseudonym > b.pseudonym ? 1 : 0));
}
