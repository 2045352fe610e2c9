import pg from 'pg';
import { adminUrl } from '../../../test/support/test-database.js';
import { answerWithNext, CoalescingExecutor, inlineParameters, sendWithNext } from './coalescing-executor.js';

/** A connected client that records the text of every query it sends in `sent`. */
async function recordingClient(sent: string[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    sent.push(typeof a[0] === 'string' ? a[0] : (a[0] as { text: string }).text);
    return query(...a);
  };
  return client;
}

/** Against PostgreSQL: a statement with its parameters written in answers what the parameterised one answers. */
describe('CoalescingExecutor on PostgreSQL', () => {
  let client: pg.Client;
  const statements: string[] = [];

  beforeAll(async () => {
    client = await recordingClient(statements);
  });
  afterAll(() => client.end());

  it.each([
    ['text with quotes and backslashes', 'SELECT $1::text AS v', ["it's a \\ back\"slash"]],
    ['arrays', 'SELECT $1::text[] AS v, $2::integer[] AS w', [['a', 'b"c', 'd\\e', "f'g"], [1, 2, 3]]],
    ['json', 'SELECT $1::jsonb AS v', [{ a: "x'y", b: [1, null] }]],
    ['numbers, booleans and null', 'SELECT $1::integer + 1 AS v, $2::boolean AS w, $3::text IS NULL AS n', [41, false, null]],
    ['a date', 'SELECT $1::timestamptz AS v', [new Date('2026-11-23T12:34:56.789Z')]],
    ['an untyped comparison', "SELECT 'x' = $1 AS v", ['x']],
    ['a long text with quotes and backslashes', 'SELECT $1::text AS v', [`it's a \\ back"slash `.repeat(40)]],
  ] as [string, string, unknown[]][])('%s', async (_label, sql, params) => {
    const expected = (await client.query(sql, params)).rows;
    const inlined = inlineParameters(sql, params);
    expect(inlined).toBeDefined();
    expect((await client.query(inlined!)).rows).toEqual(expected);
  });

  it('sends held statements with the next query, in one message, and answers that query only', async () => {
    const tx = new CoalescingExecutor(client);
    tx.hold('BEGIN');
    tx.hold("SELECT set_config('application_name', 'coalesced', true)");
    statements.length = 0;
    const res = await tx.query<{ app: string; v: string }>("SELECT current_setting('application_name') AS app, $1::text AS v", ['value']);
    expect(statements).toHaveLength(1);
    expect(res.rows).toEqual([{ app: 'coalesced', v: 'value' }]);
    // Still in the transaction BEGIN opened.
    expect((await tx.query<{ s: string }>("SELECT current_setting('application_name') AS s")).rows[0]!.s).toBe('coalesced');
    await tx.query('ROLLBACK');
  });

  it('sends a query that goes alone as a named prepared statement, parsed once per connection', async () => {
    const tx = new CoalescingExecutor(client);
    const sql = 'SELECT $1::int * 2 AS twice';
    expect((await tx.query<{ twice: number }>(sql, [21])).rows[0]!.twice).toBe(42);
    expect((await tx.query<{ twice: number }>(sql, [5])).rows[0]!.twice).toBe(10);
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [sql]);
    expect(rows[0]!.n).toBe(1);
  });

  it('sends held statements on their own first when the parameters cannot be written in', async () => {
    const tx = new CoalescingExecutor(client);
    tx.hold('BEGIN');
    statements.length = 0;
    const res = await tx.query<{ n: number }>('SELECT length($1::bytea) AS n', [Buffer.from('abc')]);
    expect(statements).toEqual(['BEGIN', 'SELECT length($1::bytea) AS n']);
    expect(res.rows[0]!.n).toBe(3);
    await tx.query('ROLLBACK');
  });

  it('sends held statements on their own first when a parameter is too long to write in, then the query with its parameter', async () => {
    const tx = new CoalescingExecutor(client);
    tx.hold('BEGIN');
    tx.hold("SELECT set_config('application_name', 'long-parameter', true)");
    const doc = Array.from({ length: 2_000 }, (_, i) => ({ caseId: `case-${i}`, note: "it's a \\ back\"slash" }));
    statements.length = 0;
    const res = await tx.query<{ n: number; app: string }>(
      "SELECT json_array_length($1::json) AS n, current_setting('application_name') AS app",
      [JSON.stringify(doc)],
    );
    expect(statements).toEqual([
      "BEGIN; SELECT set_config('application_name', 'long-parameter', true)",
      "SELECT json_array_length($1::json) AS n, current_setting('application_name') AS app",
    ]);
    expect(res.rows[0]).toEqual({ n: 2_000, app: 'long-parameter' });
    await tx.query('ROLLBACK');
  });

  it('sends the queries of one tick together, each answered with its own result; they fail together', async () => {
    await client.query('CREATE TEMP TABLE coalesced (v text)');
    const tx = new CoalescingExecutor(client);
    statements.length = 0;
    const [inserted, read, multi] = await Promise.all([
      tx.query('INSERT INTO coalesced (v) VALUES ($1)', ['one']),
      tx.query<{ v: string }>('SELECT v FROM coalesced WHERE v = $1', ['one']),
      tx.query("SELECT 1 AS a; SELECT 'x;y' AS b"),
    ]);
    expect(statements).toHaveLength(1);
    expect(inserted.rowCount).toBe(1);
    expect(read.rows).toEqual([{ v: 'one' }]);
    expect((multi as unknown as { rows: unknown[] }[]).map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 'x;y' }]]);

    const outcomes = await Promise.allSettled([tx.query('INSERT INTO coalesced (v) VALUES ($1)', ['two']), tx.query('SELECT 1 / $1::int', [0])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    // One implicit transaction: the insert that travelled with the failure is not kept.
    expect((await tx.query('SELECT v FROM coalesced WHERE v = $1', ['two'])).rows).toEqual([]);
  });

  it('opens every message with eachMessage (read-only, search_path), also when parameters cannot be written in', async () => {
    const reader = new CoalescingExecutor(client, { eachMessage: "SET LOCAL transaction_read_only = on; SELECT set_config('search_path', 'pg_catalog', true)" });
    statements.length = 0;
    const [a, b] = await Promise.all([
      reader.query<{ p: string }>('SELECT current_setting($1) AS p', ['search_path']),
      reader.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro"),
    ]);
    expect(statements).toHaveLength(1);
    expect(a.rows[0]!.p).toBe('pg_catalog');
    expect(b.rows[0]!.ro).toBe('on');
    await expect(reader.query('CREATE TEMP TABLE not_allowed (a int)')).rejects.toThrow(/read-only/);
    const binary = await reader.query<{ p: string; n: number }>("SELECT current_setting('search_path') AS p, length($1::bytea) AS n", [Buffer.from('ab')]);
    expect(binary.rows[0]).toEqual({ p: 'pg_catalog', n: 2 });
    // Nothing is left behind on the connection.
    expect((await client.query<{ p: string; ro: string }>("SELECT current_setting('search_path') AS p, current_setting('transaction_read_only') AS ro")).rows[0]).toEqual({ p: '"$user", public', ro: 'off' });
  });

  it('idle() resolves only once everything queued has been answered', async () => {
    const tx = new CoalescingExecutor(client);
    let answered = 0;
    void tx.query('SELECT pg_sleep(0.2)').then(() => answered++);
    await Promise.resolve();
    void tx.query('SELECT $1::int AS n', [1]).then(() => answered++);
    await tx.idle();
    expect(answered).toBe(2);
  });

  it('holdForAnswer: a held statement travels with the next query and gets its own answer, or that message\'s error', async () => {
    const tx = new CoalescingExecutor(client);
    tx.hold('BEGIN');
    const held = tx.holdForAnswer<{ v: number }>('SELECT 41 + 1 AS v');
    statements.length = 0;
    const next = await tx.query<{ w: string }>('SELECT $1::text AS w', ['next']);
    expect(statements).toHaveLength(1);
    expect((await held).rows).toEqual([{ v: 42 }]);
    expect(next.rows).toEqual([{ w: 'next' }]);
    const refused = tx.holdForAnswer('SELECT 1 AS v');
    await expect(tx.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await expect(refused).rejects.toThrow(/division by zero/);
    await client.query('ROLLBACK');
  });

  describe('prepare: queries that travel together are prepared once per connection', () => {
    let c: pg.Client;
    const sent: string[] = [];
    /** How many statements prepared on `c` are `text` (pg_prepared_statements shows the whole message that prepared each). */
    const preparedCount = async (text: string) => {
      const { rows } = await c.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
      return rows.filter((r) => r.statement.includes(`PREPARE ${r.name} AS ${text}`)).length;
    };

    beforeEach(async () => {
      sent.length = 0;
      c = await recordingClient(sent);
    });
    afterEach(() => c.end());

    it('sends PREPARE with the first EXECUTE, then EXECUTE alone, with the answers the inlined statement gives', async () => {
      const sql = "SELECT $1::int * 2 AS twice, $2::text[] AS words, $3::text IS NULL AS nothing, 'x;y' AS semi";
      const params = [21, ["it's", 'a "b"', 'c\\d'], null];
      const expected = (await c.query(sql, params)).rows;
      sent.length = 0;
      for (let round = 1; round <= 3; round++) {
        const tx = new CoalescingExecutor(c, { prepare: true });
        tx.hold('BEGIN');
        const [a, b] = await Promise.all([tx.query(sql, params), tx.query('SELECT $1::text AS other', [`round ${round}`])]);
        expect(a.rows).toEqual(expected);
        expect(b.rows).toEqual([{ other: `round ${round}` }]);
        await tx.query('COMMIT');
      }
      const messages = sent.filter((m) => m.startsWith('BEGIN'));
      expect(messages).toHaveLength(3);
      expect(messages[0]).toMatch(/^BEGIN; PREPARE x[0-9a-f]{24} AS SELECT \$1::int \* 2 .*; EXECUTE x[0-9a-f]{24}\('21', /);
      expect(messages[1]).not.toMatch(/PREPARE/);
      expect(messages[1]).toMatch(/^BEGIN; EXECUTE x[0-9a-f]{24}\('21', .*; EXECUTE x[0-9a-f]{24}\('round 2'\)$/);
      expect(await preparedCount(sql)).toBe(1);
    });

    it('prepares held statements with parameters too (sendWithNext, answerWithNext), each still answered on its own', async () => {
      await c.query('CREATE TEMP TABLE held_prep (k int PRIMARY KEY, v text)');
      sent.length = 0;
      for (let k = 1; k <= 2; k++) {
        const tx = new CoalescingExecutor(c, { prepare: true });
        tx.hold('BEGIN');
        await sendWithNext(tx, 'INSERT INTO held_prep (k, v) VALUES ($1, $2)', [k, `v${k}`]);
        const held = answerWithNext<{ n: number }>(tx, 'SELECT count(*)::int AS n FROM held_prep WHERE k <= $1', [k]);
        const next = await tx.query<{ v: string }>('SELECT v FROM held_prep WHERE k = $1', [k]);
        expect(next.rows).toEqual([{ v: `v${k}` }]);
        expect((await held).rows).toEqual([{ n: k }]);
        await tx.query('COMMIT');
      }
      const messages = sent.filter((m) => m.startsWith('BEGIN'));
      expect(messages[0]!.match(/PREPARE/g)).toHaveLength(3);
      expect(messages[1]).toMatch(/^BEGIN; EXECUTE x\w+\('2', 'v2'\); EXECUTE x\w+\('2'\); EXECUTE x\w+\('2'\)$/);
    });

    it('after a message that failed, finds out which of its PREPAREs took effect (they outlive the rollback) and prepares only the others', async () => {
      const first = 'SELECT $1::int + 1 AS first';
      const second = 'SELECT 10 / $1::int AS second';
      const third = 'SELECT $1::text AS third';
      const tx = new CoalescingExecutor(c, { prepare: true });
      tx.hold('BEGIN');
      const failed = await Promise.allSettled([tx.query(first, [1]), tx.query(second, [0]), tx.query(third, ['never ran'])]);
      expect(failed.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      await c.query('ROLLBACK');
      // PREPARE first and second ran before the division failed; third's did not.
      expect([await preparedCount(first), await preparedCount(second), await preparedCount(third)]).toEqual([1, 1, 0]);
      sent.length = 0;
      const again = new CoalescingExecutor(c, { prepare: true });
      const answers = await Promise.all([again.query(first, [1]), again.query(second, [5]), again.query(third, ['now'])]);
      expect(answers.map((a) => a.rows[0])).toEqual([{ first: 2 }, { second: 2 }, { third: 'now' }]);
      expect(sent[0]).toMatch(/pg_prepared_statements/);
      expect(sent[1]).toMatch(/^EXECUTE x\w+\('1'\); EXECUTE x\w+\('5'\); PREPARE x\w+ AS SELECT \$1::text AS third; EXECUTE x\w+\('now'\)$/);
    });

    it('writes in from then on a statement whose PREPARE cannot infer a parameter type (it fails once, not again)', async () => {
      const sql = 'SELECT $1 IS NULL AS missing';
      const first = new CoalescingExecutor(c, { prepare: true });
      first.hold('SELECT 1');
      await expect(first.query(sql, [null])).rejects.toMatchObject({ code: '42P18' });
      for (const [value, missing] of [[null, true], ['x', false]] as const) {
        const again = new CoalescingExecutor(c, { prepare: true });
        again.hold('SELECT 1');
        expect((await again.query<{ missing: boolean }>(sql, [value])).rows).toEqual([{ missing }]);
      }
      expect(sent.at(-1)).toBe("SELECT 1; SELECT 'x' IS NULL AS missing");
    });

    it('plans again for another search_path: the same text reads the table of the schema in force', async () => {
      await c.query('CREATE SCHEMA IF NOT EXISTS prep_a; CREATE SCHEMA IF NOT EXISTS prep_b');
      await c.query('CREATE TABLE IF NOT EXISTS prep_a.t (k int, v text); CREATE TABLE IF NOT EXISTS prep_b.t (k int, v text)');
      await c.query("TRUNCATE prep_a.t, prep_b.t; INSERT INTO prep_a.t VALUES (1, 'a'); INSERT INTO prep_b.t VALUES (1, 'b')");
      try {
        const read = async (schema: string) => {
          const tx = new CoalescingExecutor(c, { prepare: true, eachMessage: `SELECT set_config('search_path', '${schema}', true)` });
          return (await tx.query<{ v: string }>('SELECT v FROM t WHERE k = $1', [1])).rows[0]!.v;
        };
        expect([await read('prep_a'), await read('prep_b'), await read('prep_a'), await read('prep_b')]).toEqual(['a', 'b', 'a', 'b']);
        for (let i = 0; i < 6; i++) await read('prep_a'); // past the five custom plans: a generic one
        expect(await read('prep_b')).toBe('b');
      } finally {
        await c.query('DROP SCHEMA prep_a CASCADE; DROP SCHEMA prep_b CASCADE');
      }
    });
  });
});
