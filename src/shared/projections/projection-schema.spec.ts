import { assertValidProjection, type Projection } from './projection.js';
import { buildSchemaName, quoteIdent, searchPathSql } from './projection-schema.js';

const valid: Projection = { name: 'case_state', version: 3, handles: ['CaseRegistered'], kind: 'async', setup: async () => undefined, apply: async () => undefined };

describe('projection schema names', () => {
  it('names the first build by version and later rebuilds of it with _r<n>', () => {
    expect(buildSchemaName('case_state', 3, 0)).toBe('proj_case_state_v3');
    expect(buildSchemaName('case_state', 3, 2)).toBe('proj_case_state_v3_r2');
  });

  it('refuses anything that is not a plain lower-case identifier, since names are spliced into SQL', () => {
    for (const bad of ['Case', 'a-b', 'x"; DROP TABLE events; --', '1abc', 'a'.repeat(64), '']) expect(() => quoteIdent(bad)).toThrow();
    expect(searchPathSql('proj_x_v1')).toBe(`SELECT set_config('search_path', '"proj_x_v1", public', true)`);
  });

  it('accepts only projections whose name, version, handled types and kind make sense', () => {
    expect(() => assertValidProjection(valid)).not.toThrow();
    expect(() => assertValidProjection({ ...valid, name: 'Case State' })).toThrow(/name/);
    expect(() => assertValidProjection({ ...valid, name: 'x'.repeat(41) })).toThrow(/name/);
    expect(() => assertValidProjection({ ...valid, version: 0 })).toThrow(/version/);
    expect(() => assertValidProjection({ ...valid, version: 1.5 })).toThrow(/version/);
    expect(() => assertValidProjection({ ...valid, handles: [] })).toThrow(/handles/);
    expect(() => assertValidProjection({ ...valid, kind: 'lazy' as 'async' })).toThrow(/kind/);
  });
});
