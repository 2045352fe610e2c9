/**
 * Looks for clear-text personal data anywhere in a database: every column of every table and
 * materialized view in every schema except PostgreSQL's own. Each value is scanned as text
 * (numbers and dates too: a personnummer stored as a bigint is still in clear text), bytea as
 * its escaped bytes (so UTF-8 or ASCII text stored as bytes is found too).
 *
 * Use it at the end of a story with every personnummer the story used, in every form
 * (`personnummerVariants` in ./personnummer.ts), and expect an empty result.
 */
export interface ClearTextHit {
  schema: string;
  table: string;
  column: string;
  needle: string;
  /** Rows whose value contains the needle. */
  rows: number;
  /** Up to 120 characters around one occurrence, for the failure message. */
  sample: string;
}

interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export async function scanForClearText(db: Queryable, needles: string[]): Promise<ClearTextHit[]> {
  const wanted = [...new Set(needles)];
  if (wanted.some((n) => typeof n !== 'string' || n.length === 0)) throw new Error('scanForClearText: needles must be non-empty strings');
  if (wanted.length === 0) return [];
  const { rows: columns } = await db.query<{ schema: string; table: string; column: string; type: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, t.typname AS type
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     JOIN pg_type t ON t.oid = a.atttypid
     WHERE c.relkind IN ('r', 'm')  -- tables (partitions included) and materialized views
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
     ORDER BY 1, 2, a.attnum`,
  );
  const tables = new Map<string, { schema: string; table: string; columns: { column: string; type: string }[] }>();
  for (const c of columns) {
    const key = `${c.schema}.${c.table}`;
    if (!tables.has(key)) tables.set(key, { schema: c.schema, table: c.table, columns: [] });
    tables.get(key)!.columns.push({ column: c.column, type: c.type });
  }
  const hits: ClearTextHit[] = [];
  for (const t of tables.values()) {
    const values = t.columns
      .map(({ column, type }) => `(${literal(column)}, ${type === 'bytea' ? `encode(r.${ident(column)}, 'escape')` : `r.${ident(column)}::text`})`)
      .join(', ');
    const { rows } = await db.query<{ column: string; needle: string; rows: number; sample: string }>(
      `SELECT v.col AS column, n.needle, count(*)::int AS rows,
              min(substr(v.val, greatest(strpos(v.val, n.needle) - 40, 1), 120)) AS sample
       FROM ${ident(t.schema)}.${ident(t.table)} AS r
       CROSS JOIN LATERAL (VALUES ${values}) AS v(col, val)
       JOIN unnest($1::text[]) AS n(needle) ON strpos(v.val, n.needle) > 0
       GROUP BY v.col, n.needle`,
      [wanted],
    );
    for (const r of rows) hits.push({ schema: t.schema, table: t.table, ...r });
  }
  return hits;
}

/** For a readable failure: `expect(describeHits(hits)).toBe('')`. */
export function describeHits(hits: ClearTextHit[]): string {
  return hits.map((h) => `${h.schema}.${h.table}.${h.column}: "${h.needle}" in ${h.rows} row(s), e.g. …${h.sample}…`).join('\n');
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * `text` with every uuid replaced by "uuid": request, case and event ids are random and may hold
 * any run of digits by chance ("47110c14-…"), so a check for digits of a personnummer or a case
 * number looks at the rest.
 */
export function withoutUuids(text: string): string {
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'uuid');
}
