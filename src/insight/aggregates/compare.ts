import type { Questionnaire } from '../../questionnaires/questionnaire.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';
import type { Count } from './cell-protection.js';
import { roundStatistics, type RoundStatistics } from './statistics.js';

/**
 * Change between two rounds (API.md `GET /rounds/compare?from=&to=`): for every question the two
 * rounds share (same key and type) and every option both offer, the share in each round and the
 * change (to − from, in fractions). Each round's counts are protected as in its statistics; a
 * change is null when either share is hidden.
 */
export interface CompareItem {
  key: string;
  label: string;
  option: string;
  optionLabel: string;
  from: Count;
  to: Count;
  fromShare: number | null;
  toShare: number | null;
  change: number | null;
}

export interface RoundComparison {
  population: { from: RoundStatistics['population']; to: RoundStatistics['population'] };
  items: CompareItem[];
  /** Questions of only one of the rounds (a questionnaire version changed them). */
  notCompared: string[];
}

export function compareRounds(
  from: { rows: readonly SnapshotRow[]; questionnaire: Questionnaire; referenceDate: string },
  to: { rows: readonly SnapshotRow[]; questionnaire: Questionnaire; referenceDate: string },
  opts: { protect: boolean; minCell: number },
): RoundComparison {
  const a = roundStatistics(from.rows, from.questionnaire, from.referenceDate, { by: [], ...opts });
  const b = roundStatistics(to.rows, to.questionnaire, to.referenceDate, { by: [], ...opts });
  const items: CompareItem[] = [];
  const notCompared: string[] = [];
  for (const qa of a.questions) {
    const qb = b.questions.find((q) => q.key === qa.key && q.type === qa.type);
    if (!qb) {
      notCompared.push(qa.key);
      continue;
    }
    for (const oa of qa.options) {
      const ob = qb.options.find((o) => o.code === oa.code);
      if (!ob) continue;
      items.push({
        key: qa.key,
        label: qb.label,
        option: oa.code,
        optionLabel: ob.label,
        from: { count: oa.count, ...(oa.suppressed ? { suppressed: true as const } : {}) },
        to: { count: ob.count, ...(ob.suppressed ? { suppressed: true as const } : {}) },
        fromShare: oa.share,
        toShare: ob.share,
        change: oa.share === null || ob.share === null ? null : ob.share - oa.share,
      });
    }
  }
  for (const qb of b.questions) if (!a.questions.some((q) => q.key === qb.key && q.type === qb.type)) notCompared.push(qb.key);
  return { population: { from: a.population, to: b.population }, items, notCompared };
}
