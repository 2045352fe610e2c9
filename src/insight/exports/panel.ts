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
 * line, NDJSON line and flat cells (multi answers joined by ";").
 */
export interface PanelItem {
  record(): PanelRecord;
  csv?(): string;
  /**
   * Writes the NDJSON line and its newline into `buf` from `at` and returns where it ends; -1 when
   * it might not fit, or when a value is not what a stored fragment holds (then the record is used).
   */
  writeJson?(buf: Buffer, at: number): number;
  /** Puts its cells into row `row` of the columns (one array per column, in column order). */
  setCells?(columns: PanelCell[][], row: number): void;
}

export type PanelCell = string | number | boolean;

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
  const typed = (v: string, i: number): PanelCell => (numbers.has(i) ? Number(v) : booleans.has(i) ? v === 'true' : v);
  const values = (fragment: string) => fragment.split(',').map(typed);
  if (!direct) return (pseudonym, fragment, firstRound) => ({ record: () => decode(pseudonym, values(fragment), firstRound) });
  const fixed = [ctx.municipality, ctx.roundId, ctx.label, ctx.referenceDate];
  const csvPrefix = fixed.map((v) => csvField(v)).join(',');
  // The names of the fragment's values, in order, as JSON keys; which of them are multi or raw (numbers, booleans).
  const valueNames = columns.slice(5, 5 + 12 + n).map((c) => c.name);
  const multi = new Set(columns.slice(5, 5 + 12 + n).flatMap((c, i) => (c.type === 'codes' ? [i] : [])));
  const writeJson = jsonLineWriter(ctx, valueNames.map((name, i) => ({ name, kind: numbers.has(i) || booleans.has(i) ? RAW : multi.has(i) ? MULTI : QUOTED })));
  const readCells = cellReader(valueNames.map((_, i) => (numbers.has(i) ? 'number' : booleans.has(i) ? 'boolean' : 'code')));
  const round: FragmentRound = {
    record: (pseudonym, fragment, firstRound) => decode(pseudonym, values(fragment), firstRound),
    csv: (pseudonym, fragment, firstRound) => `${csvField(pseudonym)},${csvPrefix},${fragment},${csvField(firstRound)}`,
    writeJson,
    setCells: (out, row, pseudonym, fragment, firstRound) => {
      out[0]![row] = pseudonym;
      for (let i = 0; i < 4; i++) out[1 + i]![row] = fixed[i]!;
      readCells(out, 5, row, fragment);
      out[5 + valueNames.length]![row] = firstRound;
    },
  };
  return (pseudonym, fragment, firstRound) => new FragmentItem(round, pseudonym, fragment, firstRound);
}

/** What an item of a stored fragment does, the same for every row of its round. */
interface FragmentRound {
  record(pseudonym: string, fragment: string, firstRound: string): PanelRecord;
  csv(pseudonym: string, fragment: string, firstRound: string): string;
  writeJson(buf: Buffer, at: number, pseudonym: string, fragment: string, firstRound: string): number;
  setCells(out: PanelCell[][], row: number, pseudonym: string, fragment: string, firstRound: string): void;
}

/** One object per row (an export makes one per person and round), its methods shared by the round. */
class FragmentItem implements PanelItem {
  constructor(
    private readonly round: FragmentRound,
    private readonly pseudonym: string,
    private readonly fragment: string,
    private readonly firstRound: string,
  ) {}

  record(): PanelRecord {
    return this.round.record(this.pseudonym, this.fragment, this.firstRound);
  }

  csv(): string {
    return this.round.csv(this.pseudonym, this.fragment, this.firstRound);
  }

  writeJson(buf: Buffer, at: number): number {
    return this.round.writeJson(buf, at, this.pseudonym, this.fragment, this.firstRound);
  }

  setCells(out: PanelCell[][], row: number): void {
    this.round.setCells(out, row, this.pseudonym, this.fragment, this.firstRound);
  }
}

/**
 * Puts a fragment's values into a row of the Parquet columns without splitting it into new
 * strings. The Parquet writer looks every value of a code column up in its dictionary, and on
 * tens of thousands of distinct string objects per row group (each touched again long after it
 * was split off) that lookup was the slowest part of writing one. Instead each value is matched
 * against the codes already seen at its position (a short list: a few codes, a few hundred
 * combinations of a multiple choice), so a column holds a few shared strings; only a value not
 * in the list is copied out. Numbers are read digit by digit.
 */
function cellReader(kinds: ('number' | 'boolean' | 'code')[]): (out: PanelCell[][], firstColumn: number, row: number, fragment: string) => void {
  const seen = kinds.map((): string[] => []);
  return (out, firstColumn, row, fragment) => {
    let p = 0;
    for (let i = 0; i < kinds.length; i++) {
      let q = fragment.indexOf(',', p);
      if (q < 0) q = fragment.length;
      const column = out[firstColumn + i]!;
      const kind = kinds[i];
      if (kind === 'number') {
        let n = 0;
        for (let k = p; k < q; k++) {
          const d = fragment.charCodeAt(k) - 48;
          if (d < 0 || d > 9) {
            n = Number(fragment.slice(p, q));
            break;
          }
          n = n * 10 + d;
        }
        column[row] = n;
      } else if (kind === 'boolean') column[row] = q - p === 4 && fragment.startsWith('true', p);
      else {
        const codes = seen[i]!;
        const length = q - p;
        let code: string | undefined;
        for (let j = 0; j < codes.length; j++) {
          const c = codes[j]!;
          if (c.length === length && fragment.startsWith(c, p)) {
            code = c;
            break;
          }
        }
        if (code === undefined) {
          code = fragment.slice(p, q);
          // Bounded: past that many, values are taken as they come (correct, only slower to write).
          if (codes.length < 512) codes.push(code);
        }
        column[row] = code;
      }
      p = q + 1;
    }
  };
}

const QUOTED = 0;
const RAW = 1;
const MULTI = 2;

/**
 * The NDJSON line of a stored fragment, written straight into the output buffer. Making it a
 * string first (some fifty pieces joined, then encoded into the buffer) was the largest part of
 * an NDJSON export's time and of its garbage. Everything but the fragment and the pseudonym
 * (keys, the round's fixed values, firstRound) is encoded once per round with JSON.stringify.
 * Fragment values are codes, digits and true/false, so their bytes are copied as they are: the
 * fragment is written into the end of the room the line may take (one native call), and the line
 * is put together from there towards the front (a fragment byte becomes at most three, so what is
 * written never overtakes what is still to be read). A character that would need escaping or more
 * than one byte (panelValues never writes one) makes the writer give up (-1): the record is used.
 */
function jsonLineWriter(ctx: PanelContext, values: { name: string; kind: typeof QUOTED | typeof RAW | typeof MULTI }[]) {
  const bytes = (s: string) => Buffer.from(s, 'utf8');
  const head = bytes('{"pseudonym":"');
  const fixed = bytes(`","municipality":${JSON.stringify(ctx.municipality)},"roundId":${JSON.stringify(ctx.roundId)},"round":${JSON.stringify(ctx.label)},"referenceDate":${JSON.stringify(ctx.referenceDate)}`);
  const keys = values.map((v) => bytes(`,${JSON.stringify(v.name)}:`));
  const kinds = values.map((v) => v.kind);
  const tails = new Map<string, Buffer>();
  // Besides the pseudonym and the fragment: quotes or brackets around each value (at most 4 bytes).
  const overhead = head.length + fixed.length + keys.reduce((n, k) => n + k.length + 4, 0);
  const NOT_ASSESSED = bytes('not_assessed');
  return (buf: Buffer, at: number, pseudonym: string, fragment: string, firstRound: string): number => {
    let tail = tails.get(firstRound);
    if (!tail) tails.set(firstRound, (tail = bytes(`,"firstRound":${JSON.stringify(firstRound)}}\n`)));
    // A fragment byte becomes at most three (";" in a multi answer: '","').
    const room = overhead + pseudonym.length + 3 * fragment.length + tail.length;
    if (at + room > buf.length) return -1;
    if (Buffer.byteLength(fragment) !== fragment.length) return -1;
    buf.set(head, at);
    let o = at + head.length;
    for (let i = 0; i < pseudonym.length; i++) {
      const c = pseudonym.charCodeAt(i);
      if (c > 0x7f || BYTE[c] !== PLAIN) return -1;
      buf[o++] = c;
    }
    buf.set(fixed, o);
    o += fixed.length;
    let r = at + room - fragment.length;
    const end = r + buf.write(fragment, r, 'latin1');
    for (let v = 0; v < kinds.length; v++) {
      const key = keys[v]!;
      buf.set(key, o);
      o += key.length;
      const kind = kinds[v]!;
      // A multi answer is an array of codes, except not_assessed, which stands alone as a string.
      const array = kind === MULTI && !startsWith(buf, r, end, NOT_ASSESSED);
      if (array) buf[o++] = 0x5b;
      if (kind !== RAW) buf[o++] = 0x22;
      const start = r;
      for (; r < end; r++) {
        const c = buf[r]!;
        const k = BYTE[c];
        if (k === PLAIN || (k === SEMICOLON && !array)) buf[o++] = c;
        else if (k === COMMA) break;
        else if (k === SEMICOLON) {
          buf[o++] = 0x22;
          buf[o++] = 0x2c;
          buf[o++] = 0x22;
        } else return -1;
      }
      // Every value has at least one character; a missing one means a fragment of another layout.
      if (r === start) return -1;
      r++;
      if (kind !== RAW) buf[o++] = 0x22;
      if (array) buf[o++] = 0x5d;
    }
    if (r <= end) return -1;
    buf.set(tail, o);
    return o + tail.length;
  };
}

const PLAIN = 0;
const COMMA = 1;
const SEMICOLON = 2;
const ESCAPE = 3;
/** What a fragment byte is to the NDJSON writer: copied as is, a separator, or one JSON would escape. */
const BYTE = new Uint8Array(256).fill(ESCAPE);
BYTE.fill(PLAIN, 0x20, 0x7f);
BYTE[0x22] = ESCAPE;
BYTE[0x5c] = ESCAPE;
BYTE[0x2c] = COMMA;
BYTE[0x3b] = SEMICOLON;

/** Whether the value at buf[at..] is exactly `word` (followed by a comma or the end). */
function startsWith(buf: Buffer, at: number, end: number, word: Buffer): boolean {
  if (at + word.length > end || (at + word.length < end && buf[at + word.length] !== 0x2c)) return false;
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
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

export async function* ndjsonChunks(columns: readonly CodebookColumn[], pages: AsyncIterable<PanelItem[]>, size = 4 << 20): AsyncGenerator<Buffer> {
  // Lines are written straight into a buffer, a page's worth (or `size`) at a time.
  let buf = Buffer.allocUnsafe(size);
  let off = 0;
  for await (const page of pages) {
    for (const item of page) {
      if (item.writeJson) {
        let end = item.writeJson(buf, off);
        if (end < 0 && off > 0) {
          yield buf.subarray(0, off);
          buf = Buffer.allocUnsafe(size);
          off = 0;
          end = item.writeJson(buf, 0);
        }
        if (end >= 0) {
          off = end;
          continue;
        }
      }
      const line = JSON.stringify(ordered(columns, item.record()));
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
    // Sized up front (growing the column arrays a push at a time made more garbage than the cells), and
    // all of one elements kind, so that the stores into them stay monomorphic.
    const cells = columns.map(() => new Array<PanelCell>(page.length).fill(''));
    for (let row = 0; row < page.length; row++) {
      const item = page[row]!;
      if (item.setCells) item.setCells(cells, row);
      else {
        const r = item.record();
        for (let i = 0; i < columns.length; i++) cells[i]![row] = flat(r[columns[i]!.name]!);
      }
    }
    await pq.write({ columnData: columns.map((c, i) => ({ name: c.name, data: cells[i]! })), rowGroupSize: page.length });
    yield* drain();
  }
  await pq.finish();
  yield* drain();
}
