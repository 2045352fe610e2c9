import { CLOSURE_REASONS } from '../../cases/case.events.js';
import { chiSquareIndependence, type ChiSquareResult } from '../../shared/aggregates/chi-square.js';
import { UNIT_CODES, UNITS } from '../../units/units.js';
import { CellBook, type Count } from '../aggregates/cell-protection.js';
import { NOT_SET } from '../aggregates/dimensions.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';

/**
 * Flow through "Vägen till hållbar egen försörjning" between two rounds, from their snapshots
 * (API.md "Flow"). Per case:
 * - open in the first round → its unit there is the source; `new` otherwise (registered since,
 *   or closed then and reopened since);
 * - open in the second round → its unit there is the target; else `closed:<reason>` (the
 *   closure in force on the second reference date).
 *
 * So the links from each unit add up exactly to the first snapshot's open cases in that unit,
 * and the links into each unit to the second snapshot's. `missing` (a case in the first snapshot
 * and absent from the second) cannot happen between two snapshots of the same log, where the
 * second reference date is later; it is kept as a node so that the sums stay exact regardless.
 */
export const NEW = 'new';
export const MISSING = 'missing';
export const TARGETS = [...UNIT_CODES, ...CLOSURE_REASONS.map((r) => `closed:${r}`), MISSING];
export const SOURCES = [...UNIT_CODES, NEW];

const CLOSURE_LABELS: Record<string, string> = {
  employment: 'Arbete',
  studies: 'Studier',
  other_benefit: 'Annan ersättning',
  moved: 'Flyttat',
  other: 'Annat',
  unknown: 'Okänt',
};

export function nodeLabel(id: string): string {
  if (id === NEW) return 'Nya ärenden';
  if (id === MISSING) return 'Saknas i den senare omgången';
  if (id.startsWith('closed:')) return `Avslutat: ${CLOSURE_LABELS[id.slice(7)] ?? id.slice(7)}`;
  return UNITS.find((u) => u.code === id)?.name ?? id;
}

export function targetOf(row: SnapshotRow | undefined): string {
  if (!row) return MISSING;
  return row.status === 'open' ? row.unit! : `closed:${row.closureReason ?? 'unknown'}`;
}

export interface FlowLink extends Count {
  source: string;
  target: string;
}

export interface FlowNode extends Count {
  id: string;
  side: 'source' | 'target';
  label: string;
}

export interface FlowResult {
  nodes: FlowNode[];
  /** Non-zero links only (a Sankey draws nothing for zero). */
  links: FlowLink[];
  totals: { from: Count; new: Count; to: Count; left: Count };
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

/** Every case that is open in either round, with where it came from and where it went. */
export function movements(from: readonly SnapshotRow[], to: readonly SnapshotRow[]): { caseId: string; source: string; target: string; fromRow?: SnapshotRow }[] {
  const toById = new Map(to.map((r) => [r.caseId, r]));
  const fromById = new Map(from.map((r) => [r.caseId, r]));
  const out: { caseId: string; source: string; target: string; fromRow?: SnapshotRow }[] = [];
  for (const a of from) if (a.status === 'open') out.push({ caseId: a.caseId, source: a.unit!, target: targetOf(toById.get(a.caseId)), fromRow: a });
  for (const b of to) {
    if (b.status !== 'open') continue;
    const a = fromById.get(b.caseId);
    if (!a || a.status !== 'open') out.push({ caseId: b.caseId, source: NEW, target: b.unit! });
  }
  return out;
}

export function flows(from: readonly SnapshotRow[], to: readonly SnapshotRow[], opts: { protect: boolean; minCell: number }): FlowResult {
  const book = new CellBook();
  const link = (s: string, t: string) => `l|${s}|${t}`;
  for (const s of SOURCES) for (const t of TARGETS) book.touch(link(s, t));
  for (const m of movements(from, to)) {
    book.add(link(m.source, m.target));
    book.add(`s|${m.source}`);
    book.add(`t|${m.target}`);
    book.add('all');
  }
  for (const s of SOURCES) book.line(TARGETS.map((t) => link(s, t)), `s|${s}`);
  for (const t of TARGETS) book.line(SOURCES.map((s) => link(s, t)), `t|${t}`);
  book.line(SOURCES.map((s) => `s|${s}`), 'all');
  book.line(TARGETS.map((t) => `t|${t}`), 'all');
  // Headline totals: the first round's open cases, the new ones, the second's open cases, and those who left.
  const units = UNIT_CODES as readonly string[];
  for (const u of units) {
    book.add('from', book.value(`s|${u}`));
    book.add('to', book.value(`t|${u}`));
  }
  for (const t of TARGETS) if (!units.includes(t)) book.add('left', book.value(`t|${t}`));
  book.line(units.map((u) => `s|${u}`), 'from');
  book.line(['from', `s|${NEW}`], 'all');
  book.line(units.map((u) => `t|${u}`), 'to');
  book.line(['to', 'left'], 'all');
  book.line(TARGETS.filter((t) => !units.includes(t)).map((t) => `t|${t}`), 'left');
  book.seal(opts);
  const nodes: FlowNode[] = [
    ...SOURCES.map((id) => ({ id, side: 'source' as const, label: nodeLabel(id), ...book.count(`s|${id}`) })),
    ...TARGETS.filter((id) => id !== MISSING || book.value(`t|${id}`) > 0).map((id) => ({ id, side: 'target' as const, label: nodeLabel(id), ...book.count(`t|${id}`) })),
  ];
  const links: FlowLink[] = [];
  for (const s of SOURCES) for (const t of TARGETS) if (book.value(link(s, t)) > 0) links.push({ source: s, target: t, ...book.count(link(s, t)) });
  return {
    nodes,
    links,
    totals: { from: book.count('from'), new: book.count(`s|${NEW}`), to: book.count('to'), left: book.count('left') },
    suppression: { applied: opts.protect, minCell: opts.minCell, anySuppressed: book.anySuppressed },
  };
}

export interface ByPriorityResult {
  priorities: string[];
  targets: string[];
  rows: (Count & { priority: string | null; target: string })[];
  byPriority: (Count & { priority: string | null })[];
  /** Independence of destination from priority (Pearson's chi-square on the exact counts). */
  test: ChiSquareResult;
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

/** Where the first round's open cases are at the second round, by their priority in the first. */
export function flowsByPriority(from: readonly SnapshotRow[], to: readonly SnapshotRow[], opts: { protect: boolean; minCell: number }): ByPriorityResult {
  const priorities = ['high', 'medium', 'low', NOT_SET];
  const targets = TARGETS;
  const book = new CellBook();
  const cell = (p: string, t: string) => `c|${p}|${t}`;
  for (const p of priorities) for (const t of targets) book.touch(cell(p, t));
  for (const m of movements(from, to)) {
    if (!m.fromRow) continue;
    const p = m.fromRow.priority ?? NOT_SET;
    book.add(cell(p, m.target));
    book.add(`p|${p}`);
    book.add(`t|${m.target}`);
    book.add('all');
  }
  for (const p of priorities) book.line(targets.map((t) => cell(p, t)), `p|${p}`);
  for (const t of targets) book.line(priorities.map((p) => cell(p, t)), `t|${t}`);
  book.line(priorities.map((p) => `p|${p}`), 'all');
  book.line(targets.map((t) => `t|${t}`), 'all');
  const matrix = priorities.map((p) => targets.map((t) => book.value(cell(p, t))));
  book.seal(opts);
  const shownTargets = targets.filter((t) => book.value(`t|${t}`) > 0);
  return {
    priorities,
    targets: shownTargets,
    rows: priorities.flatMap((p) => shownTargets.map((t) => ({ priority: p === NOT_SET ? null : p, target: t, ...book.count(cell(p, t)) }))),
    byPriority: priorities.map((p) => ({ priority: p === NOT_SET ? null : p, ...book.count(`p|${p}`) })),
    test: chiSquareIndependence(matrix),
    suppression: { applied: opts.protect, minCell: opts.minCell, anySuppressed: book.anySuppressed },
  };
}

export interface Journey extends Count {
  /** Per round: the unit, `closed:<reason>`, or null (no case yet). */
  units: (string | null)[];
}

export interface JourneysResult {
  items: Journey[];
  persons: Count;
  suppression: { applied: boolean; minCell: number; anySuppressed: boolean };
}

/**
 * Journeys over several rounds, per person (pseudonym): a person with two cases over time (closed,
 * then registered again) is one journey. In each round the person's open case counts, else the
 * latest closed one. Everyone open in at least one of the rounds is counted once.
 */
export function journeys(rounds: readonly (readonly SnapshotRow[])[], opts: { protect: boolean; minCell: number }): JourneysResult {
  const states = rounds.map((rows) => {
    const byPerson = new Map<string, SnapshotRow>();
    for (const r of rows) {
      const person = personKey(r);
      const prev = byPerson.get(person);
      if (!prev || (prev.status !== 'open' && (r.status === 'open' || r.registeredOn > prev.registeredOn))) byPerson.set(person, r);
    }
    return byPerson;
  });
  const persons = new Set<string>();
  for (const s of states) for (const [p, r] of s) if (r.status === 'open') persons.add(p);
  const counts = new Map<string, number>();
  for (const p of persons) {
    const key = JSON.stringify(states.map((s) => (s.has(p) ? targetOf(s.get(p)) : null)));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const book = new CellBook();
  for (const [k, n] of counts) book.add(`j|${k}`, n);
  book.add('persons', persons.size);
  book.line([...counts.keys()].map((k) => `j|${k}`), 'persons');
  book.seal(opts);
  const items = [...counts.keys()]
    .map((k) => ({ units: JSON.parse(k) as (string | null)[], ...book.count(`j|${k}`), n: counts.get(k)! }))
    // Hidden counts are ordered by their sequence, never by their size (that would tell it).
    .sort((a, b) => Number(a.count === null) - Number(b.count === null) || (a.count !== null && b.count !== null ? b.n - a.n : 0) || (JSON.stringify(a.units) < JSON.stringify(b.units) ? -1 : 1))
    .map(({ n: _n, ...j }) => j);
  return { items, persons: book.count('persons'), suppression: { applied: opts.protect, minCell: opts.minCell, anySuppressed: book.anySuppressed } };
}

/** A person: their pseudonym; an erased row (pseudonym '') stands for itself, by its anonymous case id. */
function personKey(r: SnapshotRow): string {
  return r.erased ? r.caseId : r.pseudonym;
}
