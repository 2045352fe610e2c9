import pg from 'pg';
import { adminUrl } from '../../../test/support/test-database.js';
import { CoalescingExecutor, inlineParameters } from './coalescing-executor.js';

/** Against PostgreSQL: a statement with its parameters written in answers what the parameterised one answers. */
describe('CoalescingExecutor on PostgreSQL', () => {
  let client: pg.Client;
  let statements: string[];

  beforeAll(async () => {
    client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    statements = [];
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      statements.push(typeof a[0] === 'string' ? a[0] : (a[0] as { text: string }).text);
      return query(...a);
    };
  });
  afterAll(() => client.end());

  it.each([
    ['text with quotes and backslashes', 'SELECT $1::text AS v', ["it's a \\ back\"slash"]],
    ['arrays', 'SELECT $1::text[] AS v, $2::integer[] AS w', [['a', 'b"c', 'd\\e', "f'g"], [1, 2, 3]]],
    ['json', 'SELECT $1::jsonb AS v', [{ a: "x'y", b: [1, null] }]],
    ['numbers, booleans and null', 'SELECT $1::integer + 1 AS v, $2::boolean AS w, $3::text IS NULL AS n', [41, false, null]],
    ['a date', 'SELECT $1::timestamptz AS v', [new Date('2026-11-23T12:34:56.789Z')]],
    ['an untyped comparison', "SELECT 'x' = $1 AS v", ['x']],
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
});
