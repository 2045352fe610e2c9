import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

const HEX_KEY = 'ab'.repeat(32);
const B64_KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 'x'.repeat(32);

/** Every variable config.ts reads (`r.int('PORT', …)` and the like), from its source. */
function variablesReadByConfig(): string[] {
  const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  const names = [...source.matchAll(/\br\.(?:string|int|bool|oneOf|url|key)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(20); // the pattern still matches how config.ts is written
  return [...new Set(names)].sort();
}

/** The problems of a config that must not load, as `VARIABLE: message` lines. */
function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('starts a development service from an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      databaseUrl: undefined,
      dataDir: path.resolve('.vagen-data'),
      embeddedPgPort: 54329,
      embeddedPgLog: false,
      dbPoolSize: 8,
      workers: 1,
      auth: { jwtSecret: undefined, jwksUrl: undefined, issuer: undefined, audience: undefined },
      oidcClientId: undefined,
      masterKey: undefined,
      pseudonymKey: undefined,
      bodyLimitBytes: 1_048_576,
      jsonMaxDepth: 16,
      idempotencyTtlHours: 24,
      suppressionMinCell: 5,
      demo: true,
      eventStore: 'postgres',
      kurrentDbConnectionString: undefined,
      retentionYears: 5,
      retentionKeepResearchSample: true,
      retentionScheduleHours: 0,
      rateLimitPerMinute: 1200,
      trustProxy: false,
      corsOrigins: [],
      minPositionTimeoutMs: 5000,
      projectionLagReadyThreshold: 10_000,
      accessLogRetentionDays: 3650,
    });
  });

  it('has every variable in the README configuration table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));
    const keyFiles = ['MASTER_KEY_FILE', 'PSEUDONYM_KEY_FILE']; // read by r.key() beside the key itself
    expect([...variablesReadByConfig(), ...keyFiles].filter((v) => !documented.has(v))).toEqual([]);
  });

  it('is quiet and without demo data under NODE_ENV=test', () => {
    expect(loadConfig({ NODE_ENV: 'test' })).toMatchObject({ logLevel: 'silent', demo: false });
  });

  it('treats empty and blank values as unset', () => {
    expect(loadConfig({ PORT: '', HOST: '   ', DATABASE_URL: '' })).toMatchObject({ port: 3000, host: '127.0.0.1', databaseUrl: undefined });
  });

  it('parses every variable', () => {
    const env = {
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8080',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://u:p@db:5432/vagen',
      VAGEN_DATA_DIR: '/var/lib/vagen',
      EMBEDDED_PG_PORT: '6000',
      EMBEDDED_PG_LOG: 'yes',
      DB_POOL_SIZE: '40',
      WORKERS: '3',
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      AUTH_ISSUER: 'https://idp.example/',
      AUTH_AUDIENCE: 'vagen',
      OIDC_CLIENT_ID: 'vagen-web',
      MASTER_KEY: HEX_KEY,
      PSEUDONYM_KEY: B64_KEY,
      BODY_LIMIT_BYTES: '2048',
      JSON_MAX_DEPTH: '8',
      IDEMPOTENCY_TTL_HOURS: '48',
      SUPPRESSION_MIN_CELL: '10',
      DEMO: 'false',
      EVENT_STORE: 'kurrentdb',
      KURRENTDB_CONNECTION_STRING: 'kurrentdb://kurrentdb:2113?tls=false',
      RETENTION_YEARS: '7',
      RETENTION_KEEP_RESEARCH_SAMPLE: '0',
      RETENTION_SCHEDULE_HOURS: '24',
      RATE_LIMIT_PER_MINUTE: '60',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.10',
      CORS_ORIGINS: 'https://a.example, https://b.example,',
      MIN_POSITION_TIMEOUT_MS: '250',
      PROJECTION_LAG_READY_THRESHOLD: '0',
      ACCESS_LOG_RETENTION_DAYS: '365',
    };
    // A variable added to config.ts must be added here (and to the README table, see below).
    expect(Object.keys(env).sort()).toEqual(variablesReadByConfig());
    // Strict: a new field that this list does not mention fails here too.
    expect(loadConfig(env)).toStrictEqual({
      nodeEnv: 'production',
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'debug',
      databaseUrl: 'postgresql://u:p@db:5432/vagen',
      dataDir: '/var/lib/vagen',
      embeddedPgPort: 6000,
      embeddedPgLog: true,
      dbPoolSize: 40,
      workers: 3,
      auth: { jwtSecret: SECRET, jwksUrl: 'https://idp.example/.well-known/jwks.json', issuer: 'https://idp.example/', audience: 'vagen' },
      oidcClientId: 'vagen-web',
      masterKey: Buffer.from(HEX_KEY, 'hex'),
      pseudonymKey: Buffer.alloc(32, 7),
      bodyLimitBytes: 2048,
      jsonMaxDepth: 8,
      idempotencyTtlHours: 48,
      suppressionMinCell: 10,
      demo: false,
      eventStore: 'kurrentdb',
      kurrentDbConnectionString: 'kurrentdb://kurrentdb:2113?tls=false',
      retentionYears: 7,
      retentionKeepResearchSample: false,
      retentionScheduleHours: 24,
      rateLimitPerMinute: 60,
      trustProxy: ['10.0.0.0/8', '192.168.1.10'],
      corsOrigins: ['https://a.example', 'https://b.example'],
      minPositionTimeoutMs: 250,
      projectionLagReadyThreshold: 0,
      accessLogRetentionDays: 365,
    });
  });

  it('reads keys from the files named by MASTER_KEY_FILE and PSEUDONYM_KEY_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vagen-config-'));
    writeFileSync(path.join(dir, 'master'), HEX_KEY + '\n');
    writeFileSync(path.join(dir, 'pseudonym'), B64_KEY);
    const c = loadConfig({ MASTER_KEY_FILE: path.join(dir, 'master'), PSEUDONYM_KEY_FILE: path.join(dir, 'pseudonym') });
    expect(c.masterKey).toEqual(Buffer.from(HEX_KEY, 'hex'));
    expect(c.pseudonymKey).toEqual(Buffer.alloc(32, 7));
    // The variable itself wins over the file.
    expect(loadConfig({ MASTER_KEY: B64_KEY, MASTER_KEY_FILE: path.join(dir, 'master') }).masterKey).toEqual(Buffer.alloc(32, 7));
    expect(problemsOf({ MASTER_KEY_FILE: path.join(dir, 'missing') })).toEqual([
      { variable: 'MASTER_KEY_FILE', message: expect.stringContaining('cannot read') },
    ]);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '3.5'],
    ['EMBEDDED_PG_PORT', '80'],
    ['DB_POOL_SIZE', '1'],
    ['BODY_LIMIT_BYTES', '10'],
    ['JSON_MAX_DEPTH', '1000'],
    ['IDEMPOTENCY_TTL_HOURS', '1'],
    ['SUPPRESSION_MIN_CELL', '-1'],
    ['SUPPRESSION_MIN_CELL', '0'],
    ['RETENTION_YEARS', '0'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['RETENTION_SCHEDULE_HOURS', '-1'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'proxy.example'],
    ['MIN_POSITION_TIMEOUT_MS', '5'],
    ['PROJECTION_LAG_READY_THRESHOLD', '-5'],
    ['ACCESS_LOG_RETENTION_DAYS', '7'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['EVENT_STORE', 'mongodb'],
    ['DEMO', 'maybe'],
    ['EMBEDDED_PG_LOG', 'sometimes'],
    ['RETENTION_KEEP_RESEARCH_SAMPLE', 'perhaps'],
    ['DATABASE_URL', 'mysql://localhost/vagen'],
    ['DATABASE_URL', 'not a url'],
    ['AUTH_JWKS_URL', 'ftp://idp.example/jwks'],
    ['AUTH_JWT_SECRET', 'too-short'],
    ['MASTER_KEY', 'c2hvcnQ='],
    ['PSEUDONYM_KEY', 'ab'.repeat(31)],
  ])('rejects %s=%s naming the variable and the value', (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe(variable);
    // Secrets and URLs (which may carry a password) are not echoed back; other values are.
    if (/URL/.test(variable)) expect(problems[0]!.message).toMatch(/URL$/);
    else if (!/KEY|SECRET/.test(variable)) expect(problems[0]!.message).toContain(`"${value}"`);
  });

  it('reads TRUST_PROXY as off, on, a hop count or addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '::1, fd00::/8' }).trustProxy).toEqual(['::1', 'fd00::/8']);
  });

  it('does not repeat secret values in its messages', () => {
    const problems = problemsOf({ AUTH_JWT_SECRET: 'hunter2-hunter2', MASTER_KEY: 'c2VjcmV0LXNlY3JldA==' });
    expect(JSON.stringify(problems)).not.toMatch(/hunter2|c2VjcmV0/);
  });

  it('reports every problem at once, in a message that names each variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', SUPPRESSION_MIN_CELL: '-1', LOG_LEVEL: 'loud', EVENT_STORE: 'kurrentdb' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems.map((p) => p.variable)).toEqual(['PORT', 'LOG_LEVEL', 'SUPPRESSION_MIN_CELL', 'KURRENTDB_CONNECTION_STRING']);
    expect(e.message).toMatch(/^Invalid configuration:\n {2}PORT: must be an integer between 0 and 65535, got "abc"\n/);
    for (const v of ['PORT', 'SUPPRESSION_MIN_CELL', 'LOG_LEVEL', 'KURRENTDB_CONNECTION_STRING']) expect(e.message).toContain(`  ${v}: `);
  });

  it('reads WORKERS as a count, or auto for one per CPU core', () => {
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: 'AUTO' }).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: '2' }).workers).toBe(2);
    for (const bad of ['0', '65', '-1', '1.5', 'many']) {
      expect(problemsOf({ WORKERS: bad })).toEqual([{ variable: 'WORKERS', message: `must be auto or an integer between 1 and 64, got "${bad}"` }]);
    }
  });

  it('requires KURRENTDB_CONNECTION_STRING only with EVENT_STORE=kurrentdb', () => {
    expect(problemsOf({ EVENT_STORE: 'kurrentdb' })).toEqual([{ variable: 'KURRENTDB_CONNECTION_STRING', message: expect.any(String) }]);
    expect(loadConfig({ KURRENTDB_CONNECTION_STRING: 'kurrentdb://x:2113' }).eventStore).toBe('postgres');
  });

  describe('in production', () => {
    const keys = { NODE_ENV: 'production', MASTER_KEY: HEX_KEY, PSEUDONYM_KEY: B64_KEY };

    it('refuses to start without authentication, master key or pseudonym key', () => {
      expect(problemsOf({ NODE_ENV: 'production' }).map((p) => p.variable)).toEqual(['AUTH_JWKS_URL', 'MASTER_KEY', 'PSEUDONYM_KEY']);
    });

    it('requires issuer and audience with a JWKS', () => {
      const jwks = { ...keys, AUTH_JWKS_URL: 'https://idp.example/jwks' };
      expect(problemsOf(jwks).map((p) => p.variable)).toEqual(['AUTH_ISSUER']);
      expect(problemsOf({ ...jwks, AUTH_ISSUER: 'https://idp.example/' }).map((p) => p.variable)).toEqual(['AUTH_AUDIENCE']);
      expect(loadConfig({ ...jwks, AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'vagen' }).auth.jwksUrl).toBe('https://idp.example/jwks');
    });

    it('requires the issuer for the web sign-in (OIDC_CLIENT_ID)', () => {
      expect(problemsOf({ ...keys, AUTH_JWT_SECRET: SECRET, OIDC_CLIENT_ID: 'vagen-web' }).map((p) => p.variable)).toEqual(['AUTH_ISSUER']);
    });

    it('accepts an HS256 secret instead of a JWKS', () => {
      expect(loadConfig({ ...keys, AUTH_JWT_SECRET: SECRET }).auth.jwtSecret).toBe(SECRET);
    });

    it('asks for none of this outside production', () => {
      expect(() => loadConfig({ NODE_ENV: 'development', AUTH_JWKS_URL: 'https://idp.example/jwks' })).not.toThrow();
    });
  });
});
