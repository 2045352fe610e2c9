import pg from 'pg';
import { inlineParameters, MAX_WRITTEN_PARAMETER_LENGTH } from './coalescing-executor.js';

describe('inlineParameters', () => {
  it('writes parameters in as quoted literals, as node-postgres would send them', () => {
    expect(inlineParameters('SELECT status FROM round_guard WHERE round_id = $1 FOR SHARE', ['2026-H1'])).toBe(
      "SELECT status FROM round_guard WHERE round_id = '2026-H1' FOR SHARE",
    );
    expect(inlineParameters('SELECT f($1, $2, $3, $4)', [727194, null, true, "O'Brien"])).toBe("SELECT f('727194', NULL, 'true', 'O''Brien')");
    expect(inlineParameters('SELECT x FROM f($1::text[], $2::integer[])', [['a', 'b"c'], [1, 2]])).toBe(`SELECT x FROM f( E'{"a","b\\\\"c"}'::text[], '{"1","2"}'::integer[])`);
    expect(inlineParameters('SELECT $10, $1', Array.from({ length: 10 }, (_, i) => i + 1))).toBe("SELECT '10', '1'");
  });

  it('leaves quoted text alone and escapes backslashes the way PostgreSQL reads them', () => {
    expect(inlineParameters(`SELECT '$1', "col$1", $1`, ['v'])).toBe(`SELECT '$1', "col$1", 'v'`);
    expect(inlineParameters(`SELECT 'it''s $1' || $1`, ['x'])).toBe(`SELECT 'it''s $1' || 'x'`);
    expect(inlineParameters('SELECT $1', ['a\\b'])).toBe("SELECT  E'a\\\\b'");
  });

  it('refuses what it cannot do safely', () => {
    expect(inlineParameters('SELECT $1', [Buffer.from('x')])).toBeUndefined();
    expect(inlineParameters('SELECT $2', ['only one'])).toBeUndefined();
    expect(inlineParameters('SELECT $fn$ body $fn$, $1', ['x'])).toBeUndefined();
    expect(inlineParameters("SELECT E'\\n', $1", ['x'])).toBeUndefined();
    expect(inlineParameters('SELECT 1 -- $1', ['x'])).toBeUndefined();
    expect(inlineParameters("SELECT 'unterminated", [])).toBeUndefined();
    expect(inlineParameters('SELECT a$1 FROM t', ['x'])).toBeUndefined();
  });

  it('writes a long text exactly as node-postgres escapes it', () => {
    for (const unit of ["it's ", 'a\\b ', '"q" ', 'plain ', "'\\'"]) {
      for (const length of [255, 256, 300, 5_000, MAX_WRITTEN_PARAMETER_LENGTH]) {
        const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
        expect(inlineParameters('SELECT $1', [text])).toBe(`SELECT ${pg.escapeLiteral(text)}`);
      }
    }
  });

  it('leaves a parameter longer than MAX_WRITTEN_PARAMETER_LENGTH to go as a parameter', () => {
    expect(inlineParameters('SELECT $1', ['x'.repeat(MAX_WRITTEN_PARAMETER_LENGTH)])).toBeDefined();
    expect(inlineParameters('SELECT $1', ['x'.repeat(MAX_WRITTEN_PARAMETER_LENGTH + 1)])).toBeUndefined();
    expect(inlineParameters('SELECT $1, $2', ['short', { rows: 'y'.repeat(MAX_WRITTEN_PARAMETER_LENGTH) }])).toBeUndefined();
  });
});
