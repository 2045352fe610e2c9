/**
 * Every build of a projection lives in its own PostgreSQL schema, so a rebuild fills fresh tables
 * beside the live ones and the switch is one catalog update. Names are generated from validated
 * parts only, and quoted anyway, because they are spliced into SQL (identifiers cannot be bound).
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** `proj_case_state_v3`, then `proj_case_state_v3_r1`, `_r2`… for rebuilds of the same version. */
export function buildSchemaName(name: string, version: number, rebuild: number): string {
  return assertIdentifier(`proj_${name}_v${version}${rebuild > 0 ? `_r${rebuild}` : ''}`);
}

export function assertIdentifier(id: string): string {
  if (!IDENTIFIER.test(id)) throw new Error(`"${id}" is not a safe schema name (${IDENTIFIER})`);
  return id;
}

export function quoteIdent(id: string): string {
  return `"${assertIdentifier(id).replace(/"/g, '""')}"`;
}

/** The statement that points unqualified names at a schema for the rest of the transaction. */
export function searchPathSql(schema: string): string {
  return `SELECT set_config('search_path', '${quoteIdent(schema)}, public', true)`;
}
