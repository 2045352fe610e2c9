import type { BornAbroad, ChildrenInHousehold, Gender } from '../../cases/case.events.js';
import { GENDERS } from '../../cases/case.events.js';
import type { Questionnaire } from '../../questionnaires/questionnaire.js';
import { DURATION_RULES, durationCategories, type DurationCategory } from '../../reports/benefit-duration.js';
import { chiSquareIndependence, type ChiSquareResult } from '../../shared/aggregates/chi-square.js';
import { UNITS } from '../../units/units.js';
import { CellBook, type Count, shareOf } from '../aggregates/cell-protection.js';
import { NOT_SET, openRows } from '../aggregates/dimensions.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';

type Protection = { protect: boolean; minCell: number };

// ---------------------------------------------------------------------------------------------
// Benefit duration (the seed's table)

export interface PersonHistory {
  pseudonym: string;
  /** The case's registration date: the latest case gives the person's background. */
  registeredOn: string;
  gender: Gender;
  bornAbroad: BornAbroad;
  childrenInHousehold: ChildrenInHousehold;
  months: readonly string[];
}

export const DURATION_COLUMNS = ['total', 'women', 'men', 'bornInSweden', 'bornAbroad', 'childrenInHouseholds'] as const;

export interface DurationRow {
  category: DurationCategory;
  total: Count;
  women: Count;
  men: Count;
  bornInSweden: Count;
  bornAbroad: Count;
  /** Sum of the children in the counted persons' households (unknown counts as none; see childrenUnknown). */
  childrenInHouseholds: Count;
  /** Counted persons whose number of children is unknown. */
  childrenUnknown: Count;
}

/**
 * The seed's table for base year Y (DOMAIN.md): persons (not cases) by category, with the spell
 * rule of benefit-duration.ts. A person's months are the union over their cases in the
 * municipality; their background is that of their latest case ("latest known background").
 *
 * Protection per row: women + men + the rest (other and unknown gender, not shown) = total, and
 * born in Sweden + born abroad + unknown (not shown) = total, so a small rest is protected too.
 * The children sum is shown only when the row's total is (a sum over a handful of households
 * says too much about each).
 */
export function benefitDurationReport(histories: readonly PersonHistory[], year: number, opts: Protection): { year: number; rows: DurationRow[]; persons: Count; suppression: Protection & { anySuppressed: boolean } } {
  const persons = new Map<string, { latest: PersonHistory; months: Set<string> }>();
  for (const h of histories) {
    const p = persons.get(h.pseudonym);
    if (!p) persons.set(h.pseudonym, { latest: h, months: new Set(h.months) });
    else {
      for (const m of h.months) p.months.add(m);
      if (h.registeredOn > p.latest.registeredOn) p.latest = h;
    }
  }
  const book = new CellBook();
  const children = new Map<string, number>();
  const y = String(year);
  let withMonths = 0;
  for (const { latest, months } of persons.values()) {
    if ([...months].some((m) => m.startsWith(y))) withMonths++;
    for (const category of durationCategories(months, year)) {
      const k = (c: string) => `${category}|${c}`;
      book.add(k('total'));
      book.add(k(latest.gender === 'female' ? 'women' : latest.gender === 'male' ? 'men' : 'genderRest'));
      book.add(k(latest.bornAbroad === 'no' ? 'bornInSweden' : latest.bornAbroad === 'yes' ? 'bornAbroad' : 'bornRest'));
      if (latest.childrenInHousehold === 'unknown') book.add(k('childrenUnknown'));
      else children.set(category, (children.get(category) ?? 0) + latest.childrenInHousehold);
    }
  }
  book.add('persons', withMonths);
  for (const r of DURATION_RULES) {
    const k = (c: string) => `${r.category}|${c}`;
    book.notShown(k('genderRest'));
    book.notShown(k('bornRest'));
    book.line([k('women'), k('men'), k('genderRest')], k('total'));
    book.line([k('bornInSweden'), k('bornAbroad'), k('bornRest')], k('total'));
    book.touch(k('childrenUnknown'));
  }
  book.seal(opts);
  const rows = DURATION_RULES.map((r) => {
    const k = (c: string) => `${r.category}|${c}`;
    const total = book.count(k('total'));
    const childSum = children.get(r.category) ?? 0;
    return {
      category: r.category,
      total,
      women: book.count(k('women')),
      men: book.count(k('men')),
      bornInSweden: book.count(k('bornInSweden')),
      bornAbroad: book.count(k('bornAbroad')),
      childrenInHouseholds: total.count === null && opts.protect ? { count: null, suppressed: true as const } : { count: childSum },
      childrenUnknown: book.count(k('childrenUnknown')),
    };
  });
  return { year, rows, persons: book.count('persons'), suppression: { ...opts, anySuppressed: book.anySuppressed } };
}

// ---------------------------------------------------------------------------------------------
// Assessment consistency (Instrument X: are assessments consistent regardless of caseworker?)

export interface ConsistencyVariable {
  key: string;
  label: string;
  categories: { code: string; label: string }[];
  /** Per caseworker, in `caseworkers` order: counts per category. */
  counts: Count[][];
  test: ChiSquareResult & { lowExpectedShare: number };
}

export interface ConsistencyReport {
  caseworkers: { caseworker: string; assessed: Count }[];
  variables: ConsistencyVariable[];
  suppression: Protection & { anySuppressed: boolean };
}

/**
 * Per (pseudonymised) caseworker, the distribution of the round's priorities and of the single
 * choice answers, with Pearson's chi-square test of independence from caseworker and Cramér's V
 * (computed on the exact counts; the share of cells with an expected count below 5 says when the
 * test is not to be trusted). All tables share their row totals (assessed per caseworker), so
 * they are protected together.
 */
export function assessmentConsistency(rows: readonly SnapshotRow[], questionnaire: Questionnaire, staffPseudonym: (userId: string) => string, opts: Protection & { questions?: readonly string[] }): ConsistencyReport {
  const assessed = openRows(rows).filter((r) => r.answers !== null && r.assessedBy !== null);
  const workers = [...new Set(assessed.map((r) => staffPseudonym(r.assessedBy!)))].sort();
  const variables = [
    {
      key: 'priority',
      label: 'Prioritering',
      categories: [
        { code: 'high', label: 'Hög' },
        { code: 'medium', label: 'Medel' },
        { code: 'low', label: 'Låg' },
        { code: NOT_SET, label: 'Ingen prioritering i omgången' },
      ],
      of: (r: SnapshotRow) => r.priority ?? NOT_SET,
    },
    ...questionnaire.questions
      .filter((q) => q.type === 'single' && (!opts.questions || opts.questions.includes(q.key)))
      .map((q) => ({ key: q.key, label: q.label, categories: q.options.map((o) => ({ code: o.code, label: o.label })), of: (r: SnapshotRow) => String(r.answers![q.key]) })),
  ];
  const book = new CellBook();
  const matrices = new Map<string, number[][]>();
  for (const w of workers) book.touch(`w|${w}`);
  for (const r of assessed) book.add(`w|${staffPseudonym(r.assessedBy!)}`);
  book.line(workers.map((w) => `w|${w}`), 'all');
  book.add('all', assessed.length);
  for (const v of variables) {
    const cell = (w: string, c: string) => `v|${v.key}|${w}|${c}`;
    for (const w of workers) for (const c of v.categories) book.touch(cell(w, c.code));
    for (const r of assessed) book.add(cell(staffPseudonym(r.assessedBy!), v.of(r)));
    for (const w of workers) book.line(v.categories.map((c) => cell(w, c.code)), `w|${w}`);
    for (const c of v.categories) book.line(workers.map((w) => cell(w, c.code)), `v|${v.key}|*|${c.code}`);
    book.line(v.categories.map((c) => `v|${v.key}|*|${c.code}`), 'all');
    matrices.set(v.key, workers.map((w) => v.categories.map((c) => book.value(cell(w, c.code)))));
  }
  book.seal(opts);
  return {
    caseworkers: workers.map((w) => ({ caseworker: w, assessed: book.count(`w|${w}`) })),
    variables: variables.map((v) => {
      const m = matrices.get(v.key)!;
      return {
        key: v.key,
        label: v.label,
        categories: v.categories,
        counts: workers.map((w) => v.categories.map((c) => book.count(`v|${v.key}|${w}|${c.code}`))),
        test: { ...chiSquareIndependence(m), lowExpectedShare: lowExpectedShare(m) },
      };
    }),
    suppression: { ...opts, anySuppressed: book.anySuppressed },
  };
}

/** Share of the (non-empty rows × non-empty columns) cells whose expected count is below 5. */
export function lowExpectedShare(table: number[][]): number {
  const rows = table.filter((r) => r.some((v) => v > 0));
  const cols = (rows[0] ?? []).map((_, j) => j).filter((j) => rows.some((r) => r[j]! > 0));
  const n = rows.flat().reduce((a, b) => a + b, 0);
  if (n === 0 || cols.length === 0) return 0;
  let low = 0;
  for (const r of rows) {
    const rs = r.reduce((a, b) => a + b, 0);
    for (const j of cols) if ((rs * rows.reduce((a, x) => a + x[j]!, 0)) / n < 5) low++;
  }
  return low / (rows.length * cols.length);
}

// ---------------------------------------------------------------------------------------------
// Support by gender (the seed: women as a group got less support, from the municipality and from AF)

export interface SupportCell {
  gender: string;
  unit: string;
  cases: Count;
  withInterventions: Count;
  share: number | null;
  byProvider: Record<string, Count & { share: number | null }>;
}

export const PROVIDERS = ['municipality', 'employment_service', 'other'] as const;

/**
 * Share of the round's open cases with at least one intervention running on the reference date,
 * by gender and unit (`all` = every unit), and by provider. "Without" counts are not shown but
 * follow from cases minus with, so they take part in the protection.
 */
export function supportByGender(rows: readonly SnapshotRow[], opts: Protection): { rows: SupportCell[]; suppression: Protection & { anySuppressed: boolean } } {
  const population = openRows(rows);
  const units = [...UNITS.map((u) => u.code as string), 'all'];
  const measures = ['with', ...PROVIDERS];
  const book = new CellBook();
  const k = (m: string, g: string, u: string) => `${m}|${g}|${u}`;
  for (const r of population) {
    for (const u of [r.unit!, 'all']) {
      for (const g of [r.gender, 'all']) {
        book.add(k('cases', g, u));
        const has = (p?: string) => r.interventions.some((i) => p === undefined || i.provider === p);
        book.add(k('with', g, u), has() ? 1 : 0);
        for (const p of PROVIDERS) book.add(k(p, g, u), has(p) ? 1 : 0);
      }
    }
  }
  const genders = [...GENDERS, 'all'];
  for (const m of ['cases', ...measures]) {
    const real = (list: string[]) => list.filter((x) => x !== 'all');
    for (const g of genders) book.line(real(units).map((u) => k(m, g, u)), k(m, g, 'all'));
    for (const u of units) book.line(real(genders).map((g) => k(m, g, u)), k(m, 'all', u));
  }
  for (const m of measures) {
    for (const g of genders) {
      for (const u of units) {
        book.notShown(k(`not-${m}`, g, u));
        book.add(k(`not-${m}`, g, u), book.value(k('cases', g, u)) - book.value(k(m, g, u)));
        book.line([k(m, g, u), k(`not-${m}`, g, u)], k('cases', g, u));
      }
    }
  }
  book.seal(opts);
  const out: SupportCell[] = [];
  for (const g of genders) {
    for (const u of units) {
      const cases = book.count(k('cases', g, u));
      const withI = book.count(k('with', g, u));
      out.push({
        gender: g,
        unit: u,
        cases,
        withInterventions: withI,
        share: shareOf(withI, cases),
        byProvider: Object.fromEntries(PROVIDERS.map((p) => {
          const c = book.count(k(p, g, u));
          return [p, { ...c, share: shareOf(c, cases) }];
        })),
      });
    }
  }
  return { rows: out, suppression: { ...opts, anySuppressed: book.anySuppressed } };
}
