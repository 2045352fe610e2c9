import { allUnknown } from '../../questionnaires/answers.fixtures.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';

let n = 0;

/** For specs: a snapshot row of an open, assessed case, with what the test cares about overridden. */
export function row(over: Partial<SnapshotRow> = {}): SnapshotRow {
  n += 1;
  return {
    caseId: `c${String(n).padStart(5, '0')}`,
    pseudonym: `ps${n}`,
    status: 'open',
    unit: 'forsorjningsstod',
    closureReason: null,
    priority: 'medium',
    gender: 'female',
    birthYear: 1980,
    bornAbroad: 'no',
    childrenInHousehold: 0,
    registeredOn: '2025-01-01',
    answers: allUnknown(),
    assessedBy: 'cw-1',
    assessedOn: '2026-04-01',
    interventions: [],
    benefitMonthsLast12: 6,
    longTerm: false,
    veryLongTerm: false,
    fiveYear: false,
    tenYear: false,
    ...over,
  };
}

export const times = <T>(k: number, f: (i: number) => T): T[] => Array.from({ length: k }, (_, i) => f(i));
