import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { QUESTIONNAIRE_V1, type Questionnaire } from '../../questionnaires/questionnaire.js';
import { allUnknown } from '../../questionnaires/answers.fixtures.js';
import { row, times } from '../testing/rows.fixtures.js';
import { csvChunks, fragmentItems, itemOf, ndjsonChunks, panelColumns, panelFragment, panelRecord, parquetChunks, type PanelCell, type PanelItem, type PanelRecord } from './panel.js';

const V2: Questionnaire = { version: 2, questions: [...QUESTIONNAIRE_V1.questions.slice(0, 3), { key: 'housingSituation', label: 'Boende', type: 'single', options: [{ code: 'own', label: 'Eget' }, { code: 'unknown', label: 'Vet ej' }] }] };
const columns = panelColumns([QUESTIONNAIRE_V1, V2]);
const ctx = { municipality: '2281', roundId: 'r1', label: '2026-H1', referenceDate: '2026-03-31', questionnaire: QUESTIONNAIRE_V1, firstRound: '2025-H2' };

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

async function* pages(records: PanelRecord[], size: number): AsyncGenerator<PanelItem[]> {
  for (let i = 0; i < records.length; i += size) yield records.slice(i, i + size).map(itemOf);
}

async function* itemPages(items: PanelItem[], size: number): AsyncGenerator<PanelItem[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The NDJSON line an item writes by itself (without its newline), or undefined when it gives up. */
function writtenLine(item: PanelItem): string | undefined {
  const buf = Buffer.alloc(1 << 16);
  const end = item.writeJson!(buf, 0);
  if (end < 0) return undefined;
  expect(buf[end - 1]).toBe(10);
  return buf.toString('utf8', 0, end - 1);
}

describe('panel export', () => {
  const records = [
    panelRecord(row({ answers: { ...allUnknown(), workObstacles: ['language', 'mental_health'] }, interventions: [{ type: 'language_coach', provider: 'municipality' }], childrenInHousehold: 2 }), ctx, columns),
    panelRecord(row({ answers: null, priority: null, childrenInHousehold: 'unknown' }), ctx, columns),
    panelRecord(row({ status: 'closed', unit: null, closureReason: 'employment', answers: null }), { ...ctx, firstRound: undefined }, columns),
    ...times(2500, (i) => panelRecord(row({ birthYear: 1950 + (i % 50), longTerm: i % 3 === 0 }), ctx, columns)),
  ];

  it('has every column with a labelled code instead of an empty value', () => {
    expect(columns.map((c) => c.name)).toEqual(expect.arrayContaining(['pseudonym', 'roundId', 'round', 'closureReason', 'education', 'housingSituation', 'activeInterventions', 'firstRound']));
    const [assessed, notAssessed, closed] = records;
    // Multi answers in questionnaire order, whatever order they were given in.
    expect(assessed).toMatchObject({ workObstacles: ['mental_health', 'language'], activeInterventions: 1, childrenInHousehold: '2', housingSituation: 'not_asked', closureReason: 'not_applicable' });
    expect(notAssessed).toMatchObject({ education: 'not_assessed', priority: 'not_set', childrenInHousehold: 'unknown' });
    expect(closed).toMatchObject({ unit: 'not_applicable', closureReason: 'employment', firstRound: 'never_open' });
    for (const r of records.slice(0, 3)) for (const c of columns) expect([undefined, null, '']).not.toContain(r[c.name]);
    // The codebook marks "vet ej" as missing by design, the structural codes as structural.
    const edu = columns.find((c) => c.name === 'education')!;
    expect(edu.options!.find((o) => o.code === 'unknown')).toMatchObject({ missing: 'by_design', missingByDesign: true });
    expect(edu.options!.find((o) => o.code === 'not_assessed')).toMatchObject({ missing: 'structural' });
  });

  it('CSV: a header, one line per record, no empty cell', async () => {
    const csv = (await collect(csvChunks(columns, pages(records, 1000)))).toString('utf8');
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(records.length + 1);
    expect(lines[0]!.split(',')).toEqual(columns.map((c) => c.name));
    for (const l of lines.slice(1)) {
      const cells = l.split(',');
      expect(cells).toHaveLength(columns.length);
      expect(cells).not.toContain('');
    }
    expect(lines[1]).toContain('mental_health;language');
  });

  it('NDJSON: one object per line with every column', async () => {
    const lines = (await collect(ndjsonChunks(columns, pages(records, 700)))).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
    expect(JSON.parse(lines[0]!)).toEqual(records[0]);
  });

  it('Parquet: written one row group per page, read back equal by an independent reader', async () => {
    const chunks: Buffer[] = [];
    for await (const b of parquetChunks(columns, pages(records, 1000), { source: 'test' })) chunks.push(b);
    // Bytes come out as each row group is done, not all at the end.
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const file = Buffer.concat(chunks);
    const ab = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
    const meta = parquetMetadata(ab);
    expect(meta.row_groups).toHaveLength(3);
    expect(Number(meta.num_rows)).toBe(records.length);
    const back = await parquetReadObjects({ file: ab });
    expect(back).toHaveLength(records.length);
    const flat = (r: PanelRecord) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.join(';') : v]));
    expect(back[0]).toEqual(flat(records[0]!));
    expect(back[2500]).toEqual(flat(records[2500]!));
  });
  it('a stored fragment gives the same record, and (one questionnaire) the same CSV line without decoding', async () => {
    const v1Columns = panelColumns([QUESTIONNAIRE_V1]);
    const rows = [
      row({ answers: { ...allUnknown(), workObstacles: ['mental_health', 'language'] }, interventions: [{ type: 'language_coach', provider: 'municipality' }], childrenInHousehold: 2, longTerm: true }),
      row({ answers: null, priority: null, childrenInHousehold: 'unknown' }),
      row({ status: 'closed', unit: null, closureReason: 'employment', answers: null }),
    ];
    const roundCtx = { ...ctx, label: 'Omgång, "vår" 2026' };
    for (const [cols, direct] of [[v1Columns, true], [columns, false]] as const) {
      const make = fragmentItems(roundCtx, cols);
      for (const r of rows) {
        const item = make(r.pseudonym, panelFragment(r, QUESTIONNAIRE_V1), '2025-H2');
        const expected = panelRecord(r, { ...roundCtx, firstRound: '2025-H2' }, cols);
        expect(item.record()).toEqual(expected);
        expect(item.csv !== undefined).toBe(direct);
        if (!direct) continue;
        expect(item.csv!()).toBe((await collect(csvChunks(cols, pages([expected], 1)))).toString('utf8').split('\n')[1]);
        expect(item.writeJson !== undefined).toBe(direct);
        const line = writtenLine(item)!;
        expect(JSON.parse(line)).toEqual(expected);
        expect(Object.keys(JSON.parse(line))).toEqual(cols.map((c) => c.name));
        const cells: PanelCell[][] = cols.map(() => []);
        item.setCells!(cells, 0);
        expect(cells).toEqual(cols.map((c) => [Array.isArray(expected[c.name]) ? (expected[c.name] as string[]).join(';') : expected[c.name]]));
      }
    }
  });

  it('NDJSON and Parquet written from fragments are the record path: byte for byte across buffer ends, where a line falls back to its record, cell for cell', async () => {
    const v1Columns = panelColumns([QUESTIONNAIRE_V1]);
    const roundCtx = { ...ctx, label: 'Omgång, "vår" 2026' };
    const make = fragmentItems(roundCtx, v1Columns);
    const rows = [
      row({ answers: { ...allUnknown(), workObstacles: ['language', 'mental_health'] }, childrenInHousehold: 2, longTerm: true }),
      row({ answers: { ...allUnknown(), workObstacles: ['none'] } }),
      row({ answers: null, priority: null, childrenInHousehold: 'unknown' }),
      row({ status: 'closed', unit: null, closureReason: 'employment', answers: null }),
      // Characters a fragment never holds: the item gives up and its record is written instead.
      row({ pseudonym: 'ps-"quoted"' }),
      row({ pseudonym: 'ps-åäö' }),
      ...times(300, (i) => row({ birthYear: 1950 + (i % 50), veryLongTerm: i % 7 === 0 })),
    ];
    const items = rows.map((r, i) => make(r.pseudonym, panelFragment(r, QUESTIONNAIRE_V1), i % 3 === 0 ? '2025-H2' : 'Första "omgången" – vår'));
    expect(writtenLine(items[4]!)).toBeUndefined();
    expect(writtenLine(items[5]!)).toBeUndefined();
    expect(JSON.parse(writtenLine(items[1]!)!)).toMatchObject({ workObstacles: ['none'] });
    expect(JSON.parse(writtenLine(items[2]!)!)).toMatchObject({ workObstacles: 'not_assessed' });
    const expected = items.map((item) => JSON.stringify(item.record()) + '\n').join('');
    // 2,000 bytes: room for one line at a time (a line reserves its worst case, about 1,300 bytes).
    for (const size of [2000, 4 << 20]) {
      const chunks: Buffer[] = [];
      for await (const b of ndjsonChunks(v1Columns, itemPages(items, 7), size)) chunks.push(b);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
      if (size === 2000) expect(chunks.length).toBeGreaterThan(items.length / 3);
    }
    const file = await collect(parquetChunks(v1Columns, itemPages(items, 50)));
    const back = await parquetReadObjects({ file: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer });
    const flat = (r: PanelRecord) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? v.join(';') : v]));
    expect(back).toEqual(items.map((item) => flat(item.record())));
  });
});
