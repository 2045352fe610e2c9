import { ByteWriter, ParquetWriter, schemaFromColumnData, type BasicType } from 'hyparquet-writer';
import { BORN_ABROAD, CLOSURE_REASONS, GENDERS, PRIORITIES } from '../../cases/case.events.js';
import type { Question, Questionnaire } from '../../questionnaires/questionnaire.js';
import { UNITS } from '../../units/units.js';
import type { SnapshotRow } from '../snapshot/snapshot-row.js';

/**
 * The evaluators' panel (API.md "Evaluator exports"): one row per person per round under their
 * pseudonym, the same columns in CSV, NDJSON and Parquet, described by the codebook.
 *
 * No cell is ever empty. "Vet ej" is the code `unknown` (missing by design: the service records
 * that it does not know); where a value cannot exist there is a structural code instead:
 * `not_assessed` (no assessment in the round), `not_asked` (the round's questionnaire version has
 * no such question), `not_applicable` (unit of a closed case, closure reason of an open one),
 * `not_set` (no priority in the round), `never_open` (first round of a person never open in one).
 */
export const MISSING = {
  unknown: { label: 'Vet ej', missing: 'by_design' },
  not_assessed: { label: 'Ingen bedömning i omgången', missing: 'structural' },
  not_asked: { label: 'Frågan fanns inte i omgångens frågeformulär', missing: 'structural' },
  not_applicable: { label: 'Ej tillämpligt', missing: 'structural' },
  not_set: { label: 'Ingen prioritering i omgången', missing: 'structural' },
  never_open: { label: 'Aldrig aktuell i en omgång', missing: 'structural' },
} as const;

export interface CodebookOption {
  code: string;
  label: string;
  /** `by_design`: "vet ej", recorded on purpose. `structural`: the value cannot exist for this row. */
  missing?: 'by_design' | 'structural';
  missingByDesign?: boolean;
}

export interface CodebookColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'codes';
  parquetType: BasicType;
  label: string;
  description: string;
  options?: CodebookOption[];
  /** A question of the questionnaire (its answers fill the column). */
  question?: boolean;
}

const opt = (code: string, label: string): CodebookOption => ({ code, label });
const missing = (code: keyof typeof MISSING): CodebookOption => ({ code, label: MISSING[code].label, missing: MISSING[code].missing, ...(code === 'unknown' ? { missingByDesign: true } : {}) });
const CLOSURE_LABELS: Record<string, string> = { employment: 'Arbete', studies: 'Studier', other_benefit: 'Annan ersättning', moved: 'Flyttat', other: 'Annat', unknown: 'Okänt' };

/** Every column of the panel, for the questions of the given questionnaire versions (union, in order of appearance). */
export function panelColumns(questionnaires: readonly Questionnaire[]): CodebookColumn[] {
  const questions: Question[] = [];
  for (const q of questionnaires) for (const question of q.questions) if (!questions.some((x) => x.key === question.key)) questions.push(question);
  return [
    { name: 'pseudonym', type: 'string', parquetType: 'STRING', label: 'Pseudonym', description: 'The person, stable across rounds and exports of the municipality; a keyed hash that cannot be reversed without the server’s key.' },
    { name: 'municipality', type: 'string', parquetType: 'STRING', label: 'Kommun', description: 'Kommunkod (four digits).' },
    { name: 'roundId', type: 'string', parquetType: 'STRING', label: 'Omgångens id', description: 'Id of the measurement round.' },
    { name: 'round', type: 'string', parquetType: 'STRING', label: 'Omgång', description: 'The round’s label, e.g. 2026-H1.' },
    { name: 'referenceDate', type: 'date', parquetType: 'STRING', label: 'Referensdatum', description: 'YYYY-MM-DD: the date whose state the row shows.' },
    {
      name: 'unit',
      type: 'string',
      parquetType: 'STRING',
      label: 'Enhet',
      description: 'The unit on the reference date.',
      options: [...UNITS.map((u) => opt(u.code, u.name)), missing('not_applicable')],
    },
    { name: 'priority', type: 'string', parquetType: 'STRING', label: 'Prioritering', description: 'The priority set in the round.', options: [...PRIORITIES.map((p) => opt(p, { high: 'Hög', medium: 'Medel', low: 'Låg' }[p])), missing('not_set')] },
    { name: 'status', type: 'string', parquetType: 'STRING', label: 'Status', description: 'Open or closed on the reference date. A person stays in the panel after their case closed.', options: [opt('open', 'Aktuell'), opt('closed', 'Avslutad')] },
    {
      name: 'closureReason',
      type: 'string',
      parquetType: 'STRING',
      label: 'Avslutsorsak',
      description: 'Why the case was closed (in force on the reference date).',
      options: [...CLOSURE_REASONS.map((r) => (r === 'unknown' ? missing('unknown') : opt(r, CLOSURE_LABELS[r]!))), missing('not_applicable')],
    },
    { name: 'gender', type: 'string', parquetType: 'STRING', label: 'Kön', description: 'As registered.', options: GENDERS.map((g) => (g === 'unknown' ? missing('unknown') : opt(g, { female: 'Kvinna', male: 'Man', other: 'Annat' }[g]))) },
    { name: 'birthYear', type: 'integer', parquetType: 'INT32', label: 'Födelseår', description: 'From the personnummer (the date itself is not exported).' },
    { name: 'bornAbroad', type: 'string', parquetType: 'STRING', label: 'Född utomlands', description: 'As registered.', options: BORN_ABROAD.map((b) => (b === 'unknown' ? missing('unknown') : opt(b, { yes: 'Ja', no: 'Nej' }[b]))) },
    {
      name: 'childrenInHousehold',
      type: 'string',
      parquetType: 'STRING',
      label: 'Barn i hushållet',
      description: 'Number of children (a whole number written as text), or the code unknown.',
      options: [missing('unknown')],
    },
    ...questions.map(
      (q): CodebookColumn => ({
        name: q.key,
        question: true,
        type: q.type === 'multi' ? 'codes' : 'string',
        parquetType: 'STRING',
        label: q.label,
        description:
          q.type === 'multi'
            ? 'Multiple choice: the chosen codes joined by ";" in questionnaire order (NDJSON: an array). "unknown" and "none" stand alone.'
            : 'Single choice: one code.',
        options: [...q.options.map((o) => (o.code === 'unknown' ? missing('unknown') : opt(o.code, o.label))), missing('not_assessed'), missing('not_asked')],
      }),
    ),
    { name: 'activeInterventions', type: 'integer', parquetType: 'INT32', label: 'Pågående insatser', description: 'Number of interventions running on the reference date.' },
    { name: 'benefitMonthsLast12', type: 'integer', parquetType: 'INT32', label: 'Biståndsmånader senaste 12', description: 'Benefit months among the 12 months ending with the reference month.' },
    { name: 'longTerm', type: 'boolean', parquetType: 'BOOLEAN', label: 'Långvarigt', description: 'At least 10 benefit months in the 12 months ending with the reference month.' },
    {
      name: 'veryLongTerm',
      type: 'boolean',
      parquetType: 'BOOLEAN',
      label: 'Mycket långvarigt',
      description: 'At least 27 benefit months in the 36 months ending with the reference month, in one spell with no break longer than 2 months (the spell rule).',
    },
    {
      name: 'firstRound',
      type: 'string',
      parquetType: 'STRING',
      label: 'Första omgång',
      description: 'Label of the earliest round in which the person had an open case (among the rounds exported or earlier).',
      options: [missing('never_open')],
    },
  ];
}

export type PanelValue = string | number | boolean | string[];
export type PanelRecord = Record<string, PanelValue>;

export interface PanelContext {
  municipality: string;
  roundId: string;
  label: string;
  referenceDate: string;
  questionnaire: Questionnaire;
  firstRound: string | undefined;
}

/** A snapshot row as a panel record (NDJSON shape: a multi answer is an array). */
export function panelRecord(row: SnapshotRow, ctx: PanelContext, columns: readonly CodebookColumn[]): PanelRecord {
  return panelEncoder(ctx, columns)(row);
}

/**
 * The record maker for one round, with the question lookups done once (an export makes one
 * record per person and round, so this is its inner loop).
 */
export function panelEncoder(ctx: PanelContext, columns: readonly CodebookColumn[]): (row: SnapshotRow, firstRound?: string) => PanelRecord {
  const questions = columns
    .filter((c) => c.question)
    .map((c) => {
      const q = ctx.questionnaire.questions.find((x) => x.key === c.name);
      return { name: c.name, asked: q !== undefined, order: new Map((q?.options ?? []).map((o, i) => [o.code, i])) };
    });
  return (row, firstRound = ctx.firstRound ?? 'never_open') => {
    const r: PanelRecord = {
      pseudonym: row.pseudonym,
      municipality: ctx.municipality,
      roundId: ctx.roundId,
      round: ctx.label,
      referenceDate: ctx.referenceDate,
      unit: row.unit ?? 'not_applicable',
      priority: row.priority ?? 'not_set',
      status: row.status,
      closureReason: row.closureReason ?? 'not_applicable',
      gender: row.gender,
      birthYear: row.birthYear,
      bornAbroad: row.bornAbroad,
      childrenInHousehold: String(row.childrenInHousehold),
    };
    for (const q of questions) {
      if (!q.asked) r[q.name] = 'not_asked';
      else if (!row.answers) r[q.name] = 'not_assessed';
      else {
        const a = row.answers[q.name];
        r[q.name] = a === undefined ? 'not_assessed' : Array.isArray(a) ? [...a].sort((x, y) => (q.order.get(x) ?? 0) - (q.order.get(y) ?? 0)) : a;
      }
    }
    r.activeInterventions = row.interventions.length;
    r.benefitMonthsLast12 = row.benefitMonthsLast12;
    r.longTerm = row.longTerm;
    r.veryLongTerm = row.veryLongTerm;
    r.firstRound = firstRound;
    return r;
  };
}

/**
 * A row's panel values in a fixed layout for its round's questionnaire: unit, priority, status,
 * closureReason, gender, birthYear, bornAbroad, childrenInHousehold, one value per question
 * (multi: codes joined by ";"), activeInterventions, benefitMonthsLast12, longTerm, veryLongTerm.
 * The projection stores them joined by commas beside the row (`panelFragment`), so an export
 * reads one short string per row, and for CSV copies it into the line as it is: every value is a
 * code (snake_case, enforced when a questionnaire is published), a number or true/false, so none
 * needs quoting.
 */
export function panelValues(row: SnapshotRow, questionnaire: Questionnaire): (string | number | boolean)[] {
  const answers = questionnaire.questions.map((q) => {
    const a = row.answers?.[q.key];
    if (a === undefined) return 'not_assessed';
    if (!Array.isArray(a)) return a;
    const order = q.options.map((o) => o.code);
    return [...a].sort((x, y) => order.indexOf(x) - order.indexOf(y)).join(';');
  });
  return [
    row.unit ?? 'not_applicable',
    row.priority ?? 'not_set',
    row.status,
    row.closureReason ?? 'not_applicable',
    row.gender,
    row.birthYear,
    row.bornAbroad,
    String(row.childrenInHousehold),
    ...answers,
    row.interventions.length,
    row.benefitMonthsLast12,
    row.longTerm,
    row.veryLongTerm,
  ];
}

export function panelFragment(row: SnapshotRow, questionnaire: Questionnaire): string {
  return panelValues(row, questionnaire).join(',');
}

/**
 * One row of a panel page: its record, and, when they can be had without the record, its CSV
 * line, NDJSON line and flat cells (column order; multi answers joined by ";").
 */
export interface PanelItem {
  record(): PanelRecord;
  csv?(): string;
  json?(): string;
  cells?(): (string | number | boolean)[];
}

export function itemOf(record: PanelRecord): PanelItem {
  return { record: () => record };
}

/**
 * Items for stored fragments (panelFragment) of one round. When the panel's question columns are
 * exactly the round's questions, in order (one questionnaire version), the CSV line, the NDJSON
 * line and the cells are put together from the round's fixed part and the fragment's values,
 * without making a record.
 */
export function fragmentItems(ctx: PanelContext, columns: readonly CodebookColumn[]): (pseudonym: string, fragment: string, firstRound: string) => PanelItem {
  const decode = panelValuesDecoder(ctx, columns);
  const n = ctx.questionnaire.questions.length;
  const questionNames = columns.filter((c) => c.question).map((c) => c.name);
  const direct = questionNames.length === n && questionNames.every((name, i) => ctx.questionnaire.questions[i]!.key === name);
  const numbers = new Set([5, 8 + n, 9 + n]);
  const booleans = new Set([10 + n, 11 + n]);
  const typed = (v: string, i: number): string | number | boolean => (numbers.has(i) ? Number(v) : booleans.has(i) ? v === 'true' : v);
  const values = (fragment: string) => fragment.split(',').map(typed);
  if (!direct) return (pseudonym, fragment, firstRound) => ({ record: () => decode(pseudonym, values(fragment), firstRound) });
  const fixed = [ctx.municipality, ctx.roundId, ctx.label, ctx.referenceDate];
  const csvPrefix = fixed.map((v) => csvField(v)).join(',');
  // The names of the fragment's values, in order, as JSON keys; which of them are multi or raw (numbers, booleans).
  const valueNames = columns.slice(5, 5 + 12 + n).map((c) => c.name);
  const multi = new Set(columns.slice(5, 5 + 12 + n).flatMap((c, i) => (c.type === 'codes' ? [i] : [])));
  const jsonPrefix = `,"municipality":${JSON.stringify(ctx.municipality)},"roundId":${JSON.stringify(ctx.roundId)},"round":${JSON.stringify(ctx.label)},"referenceDate":${JSON.stringify(ctx.referenceDate)}`;
  const jsonKeys = valueNames.map((name) => `,${JSON.stringify(name)}:`);
  return (pseudonym, fragment, firstRound) => ({
    record: () => decode(pseudonym, values(fragment), firstRound),
    csv: () => `${csvField(pseudonym)},${csvPrefix},${fragment},${csvField(firstRound)}`,
    json: () => {
      const v = fragment.split(',');
      let out = `{"pseudonym":${JSON.stringify(pseudonym)}${jsonPrefix}`;
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        // Codes are snake_case and numbers are digits: no escaping is ever needed inside them.
        out += jsonKeys[i]! + (numbers.has(i) || booleans.has(i) ? x : multi.has(i) && x !== 'not_assessed' ? `["${x.split(';').join('","')}"]` : `"${x}"`);
      }
      return `${out},"firstRound":${JSON.stringify(firstRound)}}`;
    },
    cells: () => [pseudonym, ...fixed, ...values(fragment), firstRound],
  });
}

/** The record maker for stored panel values (see panelValues) of one round. */
export function panelValuesDecoder(ctx: PanelContext, columns: readonly CodebookColumn[]): (pseudonym: string, values: readonly (string | number | boolean)[], firstRound: string) => PanelRecord {
  const qs = ctx.questionnaire.questions;
  const questions = columns
    .filter((c) => c.question)
    .map((c) => ({ name: c.name, index: qs.findIndex((q) => q.key === c.name), multi: c.type === 'codes' }));
  const n = qs.length;
  return (pseudonym, v, firstRound) => {
    const r: PanelRecord = {
      pseudonym,
      municipality: ctx.municipality,
      roundId: ctx.roundId,
      round: ctx.label,
      referenceDate: ctx.referenceDate,
      unit: v[0] as string,
      priority: v[1] as string,
      status: v[2] as string,
      closureReason: v[3] as string,
      gender: v[4] as string,
      birthYear: v[5] as number,
      bornAbroad: v[6] as string,
      childrenInHousehold: v[7] as string,
    };
    for (const q of questions) {
      if (q.index < 0) r[q.name] = 'not_asked';
      else {
        const a = v[8 + q.index] as string;
        r[q.name] = q.multi && a !== 'not_assessed' ? a.split(';') : a;
      }
    }
    r.activeInterventions = v[8 + n] as number;
    r.benefitMonthsLast12 = v[9 + n] as number;
    r.longTerm = v[10 + n] as boolean;
    r.veryLongTerm = v[11 + n] as boolean;
    r.firstRound = firstRound;
    return r;
  };
}

const flat = (v: PanelValue): string | number | boolean => (Array.isArray(v) ? v.join(';') : v);

function csvField(v: PanelValue): string {
  const s = String(flat(v));
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Encoders: each takes pages of records and yields bytes as they are ready (nothing waits for the end). */
export async function* csvChunks(columns: readonly CodebookColumn[], pages: AsyncIterable<PanelItem[]>): AsyncGenerator<Buffer> {
  const names = columns.map((c) => c.name);
  yield Buffer.from(names.join(',') + '\n');
  for await (const page of pages) {
    if (page.length === 0) continue;
    let out = '';
    for (const item of page) {
      if (item.csv) {
        out += item.csv() + '\n';
        continue;
      }
      const r = item.record();
      let line = csvField(r[names[0]!]!);
      for (let i = 1; i < names.length; i++) line += ',' + csvField(r[names[i]!]!);
      out += line + '\n';
    }
    yield Buffer.from(out);
  }
}

export async function* ndjsonChunks(columns: readonly CodebookColumn[], pages: AsyncIterable<PanelItem[]>): AsyncGenerator<Buffer> {
  // Lines are written straight into a buffer: joining thousands of lines made of many small pieces
  // into one string first cost more than making them.
  const size = 4 << 20;
  let buf = Buffer.allocUnsafe(size);
  let off = 0;
  for await (const page of pages) {
    for (const item of page) {
      const line = item.json ? item.json() : JSON.stringify(ordered(columns, item.record()));
      // A UTF-16 unit is at most 3 bytes of UTF-8.
      if (off + line.length * 3 + 1 > buf.length) {
        if (off > 0) yield buf.subarray(0, off);
        buf = Buffer.allocUnsafe(Math.max(size, line.length * 3 + 1));
        off = 0;
      }
      off += buf.write(line, off);
      buf[off++] = 10;
    }
    if (off > 0) {
      yield buf.subarray(0, off);
      buf = Buffer.allocUnsafe(size);
      off = 0;
    }
  }
}

function ordered(columns: readonly CodebookColumn[], r: PanelRecord): PanelRecord {
  const o: PanelRecord = {};
  for (const c of columns) o[c.name] = r[c.name]!;
  return o;
}

/**
 * Parquet, written incrementally: every page becomes one row group, and the writer's buffer is
 * handed on and emptied after each (the file's metadata, written last, only keeps offsets).
 */
export async function* parquetChunks(columns: readonly CodebookColumn[], pages: AsyncIterable<PanelItem[]>, kv: Record<string, string> = {}): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const writer = new ByteWriter(1 << 20) as ByteWriter & { flush(): void };
  writer.flush = () => {
    out.push(Buffer.from(writer.buffer.slice(0, writer.index)));
    writer.index = 0;
  };
  writer.finish = () => writer.flush();
  const schema = schemaFromColumnData({ columnData: columns.map((c) => ({ name: c.name, data: [], type: c.parquetType, nullable: false })) });
  // No column statistics: computing min/max of every string column was most of the writing time,
  // and a panel file is read whole, not filtered by row group.
  const pq = new ParquetWriter({ writer, schema, statistics: false, kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })), createdBy: 'vagen panel export (hyparquet-writer)' });
  const drain = function* () {
    while (out.length > 0) yield out.shift()!;
  };
  yield* drain();
  for await (const page of pages) {
    if (page.length === 0) continue;
    const rows = page.map((item) => (item.cells ? item.cells() : columns.map((c) => flat(item.record()[c.name]!))));
    await pq.write({ columnData: columns.map((c, i) => ({ name: c.name, data: rows.map((r) => r[i]!) })), rowGroupSize: page.length });
    yield* drain();
  }
  await pq.finish();
  yield* drain();
}
