import { BORN_ABROAD, GENDERS } from '../../cases/case.events.js';
import type { Questionnaire, Question } from '../../questionnaires/questionnaire.js';
import { Problem } from '../../shared/http/problem.js';
import { UNITS } from '../../units/units.js';
import { AGE_GROUPS, ageGroup, hasChildren, type SnapshotRow } from '../snapshot/snapshot-row.js';

/**
 * The keys an analysis seminar can slice a round by (API.md crosstab): the questions of the
 * round's questionnaire and the background keys. Every key has a fixed list of values, so tables
 * keep their shape (a zero is shown as a zero) and a misspelt value is a 400, not an empty table.
 */
export interface Dimension {
  key: string;
  label: string;
  /** True when a row can have several values (a `multi` question): counts then do not add up across values. */
  multi: boolean;
  /** True for question keys: only assessed cases have a value. */
  question: boolean;
  values: { code: string; label: string }[];
  of(row: SnapshotRow): readonly string[];
}

export const NOT_SET = 'not_set';

const BACKGROUND: Record<string, { label: string; values: [string, string][]; of: (row: SnapshotRow, referenceDate: string) => string }> = {
  gender: {
    label: 'Kön',
    values: GENDERS.map((g) => [g, { female: 'Kvinna', male: 'Man', other: 'Annat', unknown: 'Vet ej' }[g]]),
    of: (r) => r.gender,
  },
  unit: { label: 'Enhet', values: UNITS.map((u) => [u.code, u.name]), of: (r) => r.unit ?? 'closed' },
  priority: {
    label: 'Prioritering',
    values: [
      ['high', 'Hög'],
      ['medium', 'Medel'],
      ['low', 'Låg'],
      [NOT_SET, 'Ingen prioritering i omgången'],
    ],
    of: (r) => r.priority ?? NOT_SET,
  },
  bornAbroad: { label: 'Född utomlands', values: BORN_ABROAD.map((b) => [b, { yes: 'Ja', no: 'Nej', unknown: 'Vet ej' }[b]]), of: (r) => r.bornAbroad },
  ageGroup: {
    label: 'Åldersgrupp',
    values: AGE_GROUPS.map((a) => [a, { under_25: 'Under 25', '25_34': '25–34', '35_44': '35–44', '45_54': '45–54', '55_plus': '55 och äldre' }[a]]),
    of: (r, ref) => ageGroup(r.birthYear, ref),
  },
  hasChildren: {
    label: 'Barn i hushållet',
    values: [
      ['yes', 'Ja'],
      ['no', 'Nej'],
      ['unknown', 'Vet ej'],
    ],
    of: (r) => hasChildren(r.childrenInHousehold),
  },
};

export const BACKGROUND_KEYS = Object.keys(BACKGROUND);

/** Aliases a client may send as filter values (the web sends true/false for hasChildren). */
const VALUE_ALIASES: Record<string, Record<string, string>> = { hasChildren: { true: 'yes', false: 'no' }, bornAbroad: { true: 'yes', false: 'no' } };

export function dimension(key: string, questionnaire: Questionnaire, referenceDate: string): Dimension | undefined {
  // Own keys only: "__proto__" or "constructor" from a query string must not find Object's.
  const bg = Object.hasOwn(BACKGROUND, key) ? BACKGROUND[key] : undefined;
  if (bg) {
    const values = bg.values.map(([code, label]) => ({ code, label }));
    return { key, label: bg.label, multi: false, question: false, values, of: (r) => [bg.of(r, referenceDate)] };
  }
  const q: Question | undefined = questionnaire.questions.find((x) => x.key === key);
  if (!q) return undefined;
  return {
    key,
    label: q.label,
    multi: q.type === 'multi',
    question: true,
    values: q.options.map((o) => ({ code: o.code, label: o.label })),
    of: (r) => {
      const a = r.answers?.[key];
      return a === undefined ? [] : Array.isArray(a) ? a : [a];
    },
  };
}

/** A key from a query parameter, or a 400 naming the parameter and the keys there are. */
export function requireDimension(param: string, key: unknown, questionnaire: Questionnaire, referenceDate: string): Dimension {
  const known = [...BACKGROUND_KEYS, ...questionnaire.questions.map((q) => q.key)];
  if (typeof key !== 'string' || key === '') throw Problem.badRequest(`${param} is required.`, [{ path: param, message: `must be one of ${known.join(', ')}` }]);
  const d = dimension(key, questionnaire, referenceDate);
  if (!d) throw Problem.badRequest(`${param}: "${key}" is not a key of this round.`, [{ path: param, message: `"${key}" is not a key; must be one of ${known.join(', ')}` }]);
  return d;
}

/** `filter[<key>]=a,b` → the rows' predicate; every problem is a 400 naming `filter[<key>]`. */
export function parseFilters(query: Record<string, unknown>, questionnaire: Questionnaire, referenceDate: string): { filters: { key: string; values: string[] }[]; test: (row: SnapshotRow) => boolean; dimensions: Dimension[] } {
  const errors: { path: string; message: string }[] = [];
  const filters: { d: Dimension; values: string[] }[] = [];
  for (const [name, raw] of Object.entries(query)) {
    if (!name.startsWith('filter')) continue;
    const m = /^filter\[([A-Za-z][A-Za-z0-9_]*)\]$/.exec(name);
    if (!m) {
      errors.push({ path: name, message: 'filters are written filter[<key>]=<value>[,<value>…]' });
      continue;
    }
    const d = dimension(m[1]!, questionnaire, referenceDate);
    if (!d) {
      errors.push({ path: name, message: `"${m[1]}" is not a key of this round` });
      continue;
    }
    const given = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const aliases = Object.hasOwn(VALUE_ALIASES, d.key) ? VALUE_ALIASES[d.key]! : {};
    const values = given.map((v) => (Object.hasOwn(aliases, v) ? aliases[v]! : v));
    const bad = values.filter((v) => !d.values.some((x) => x.code === v));
    if (values.length === 0) errors.push({ path: name, message: 'must name at least one value' });
    else if (bad.length > 0) errors.push({ path: name, message: `${bad.map((b) => `"${b}"`).join(', ')} not a value of ${d.key}; must be one of ${d.values.map((x) => x.code).join(', ')}` });
    else filters.push({ d, values });
  }
  if (errors.length > 0) throw Problem.badRequest('Invalid filter.', errors);
  return {
    filters: filters.map((f) => ({ key: f.d.key, values: f.values })),
    test: (row) => filters.every((f) => f.d.of(row).some((v) => f.values.includes(v))),
    dimensions: filters.map((f) => f.d),
  };
}

/** The round's population: cases open on the reference date. */
export function openRows(rows: readonly SnapshotRow[]): SnapshotRow[] {
  return rows.filter((r) => r.status === 'open');
}
