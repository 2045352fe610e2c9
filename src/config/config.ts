import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/**
 * The one place where environment variables are read. Every variable is parsed and validated
 * here; a bad value stops start-up with a message naming the variable (see README "Configuration").
 */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Absent: an embedded PostgreSQL is started under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  /** Print the embedded PostgreSQL server's own log lines. */
  embeddedPgLog: boolean;
  /**
   * Connections in the service's pool. One Node process keeps only a few busy at a time (its own
   * CPU per request exceeds the database time); more let transactions queue inside PostgreSQL
   * on the append lock instead of in Node. On a two-core host 8 beat 20 in bench:http (README).
   */
  dbPoolSize: number;
  /**
   * HTTP worker processes on this machine (node:cluster), each with its own event loop and its
   * own pool of `dbPoolSize` connections; 1 = a single process (the default). `auto` = one per
   * CPU core. Workers are instances of the service like any other (projection leases, the append
   * lock and the database keep them apart); the primary process only supervises them.
   */
  workers: number;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  /** The web interface's OpenID Connect client (authorization code + PKCE against AUTH_ISSUER). */
  oidcClientId: string | undefined;
  /** 32-byte key that wraps every person's data key (AES-256-GCM). */
  masterKey: Buffer | undefined;
  /** HMAC key for pseudonyms. */
  pseudonymKey: Buffer | undefined;
  bodyLimitBytes: number;
  jsonMaxDepth: number;
  idempotencyTtlHours: number;
  suppressionMinCell: number;
  demo: boolean;
  eventStore: 'postgres' | 'kurrentdb';
  kurrentDbConnectionString: string | undefined;
  retentionYears: number;
  retentionKeepResearchSample: boolean;
  /** Run retention culling for every municipality every this many hours; 0 = never (default). */
  retentionScheduleHours: number;
  rateLimitPerMinute: number;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate limiting per IP, logs):
   * false (none: the socket address), true (any), a hop count, or proxy addresses/CIDRs.
   */
  trustProxy: boolean | number | string[];
  corsOrigins: string[];
  minPositionTimeoutMs: number;
  projectionLagReadyThreshold: number;
  accessLogRetentionDays: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: { variable: string; message: string }[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, def?: string): string | undefined {
    return this.raw(name) ?? def;
  }

  int(name: string, def: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return def;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push({ variable: name, message: `must be an integer between ${min} and ${max}, got "${v}"` });
      return def;
    }
    return Number(v);
  }

  bool(name: string, def: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return def;
    if (['true', '1', 'yes'].includes(v.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(v.toLowerCase())) return false;
    this.problems.push({ variable: name, message: `must be true or false, got "${v}"` });
    return def;
  }

  oneOf<T extends string>(name: string, options: readonly T[], def: T): T {
    const v = this.raw(name);
    if (v === undefined) return def;
    if (!options.includes(v as T)) {
      this.problems.push({ variable: name, message: `must be one of ${options.join(', ')}, got "${v}"` });
      return def;
    }
    return v as T;
  }

  url(name: string, protocols: string[]): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return v;
    } catch {
      this.problems.push({ variable: name, message: `must be a ${protocols.join(' or ')} URL` });
      return undefined;
    }
  }

  /** A 32-byte key given as base64/hex in `name`, or in the file named by `${name}_FILE`. */
  key(name: string): Buffer | undefined {
    let v = this.raw(name);
    const file = this.raw(`${name}_FILE`);
    if (v === undefined && file !== undefined) {
      try {
        v = readFileSync(file, 'utf8').trim();
      } catch {
        this.problems.push({ variable: `${name}_FILE`, message: `cannot read file "${file}"` });
        return undefined;
      }
    }
    if (v === undefined) return undefined;
    const buf = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (buf.length !== 32) {
      this.problems.push({ variable: name, message: 'must be 32 bytes, as 64 hex characters or base64' });
      return undefined;
    }
    return buf;
  }
}

/** WORKERS: a count of worker processes, or `auto` for one per CPU core. */
function workers(r: Reader): number {
  const v = r.string('WORKERS');
  if (v === undefined) return 1;
  if (v.toLowerCase() === 'auto') return availableParallelism();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) {
    r.problems.push({ variable: 'WORKERS', message: `must be auto or an integer between 1 and 64, got "${v}"` });
    return 1;
  }
  return Number(v);
}

/** TRUST_PROXY: `false` (default), `true`, a hop count, or comma-separated addresses/CIDRs. */
function trustProxy(r: Reader): boolean | number | string[] {
  const v = r.string('TRUST_PROXY');
  if (v === undefined || /^(false|0|no)$/i.test(v)) return false;
  if (/^(true|yes)$/i.test(v)) return true;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((a) => {
    const [addr, bits, ...rest] = a.split('/');
    return rest.length > 0 || isIP(addr ?? '') === 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(addr!) === 4 ? 32 : 128)));
  });
  if (bad.length > 0 || list.length === 0) {
    r.problems.push({ variable: 'TRUST_PROXY', message: `must be true, false, a hop count or IP addresses/CIDRs, got "${v}"` });
    return false;
  }
  return list;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const jwtSecret = r.string('AUTH_JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push({ variable: 'AUTH_JWT_SECRET', message: 'must be at least 32 characters' });
  }
  const config: AppConfig = {
    nodeEnv,
    host: r.string('HOST', '127.0.0.1')!,
    port: r.int('PORT', 3000, 0, 65535),
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'silent' : 'info'),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: path.resolve(r.string('VAGEN_DATA_DIR', '.vagen-data')!),
    embeddedPgPort: r.int('EMBEDDED_PG_PORT', 54329, 1024, 65535),
    embeddedPgLog: r.bool('EMBEDDED_PG_LOG', false),
    dbPoolSize: r.int('DB_POOL_SIZE', 8, 2, 500),
    workers: workers(r),
    auth: {
      jwtSecret,
      jwksUrl: r.url('AUTH_JWKS_URL', ['https:', 'http:']),
      issuer: r.string('AUTH_ISSUER'),
      audience: r.string('AUTH_AUDIENCE'),
    },
    oidcClientId: r.string('OIDC_CLIENT_ID'),
    masterKey: r.key('MASTER_KEY'),
    pseudonymKey: r.key('PSEUDONYM_KEY'),
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 1_048_576, 1024, 512 * 1024 * 1024),
    jsonMaxDepth: r.int('JSON_MAX_DEPTH', 16, 2, 256),
    idempotencyTtlHours: r.int('IDEMPOTENCY_TTL_HOURS', 24, 24, 24 * 365),
    suppressionMinCell: r.int('SUPPRESSION_MIN_CELL', 5, 1, 1000),
    demo: r.bool('DEMO', nodeEnv !== 'test'),
    eventStore: r.oneOf('EVENT_STORE', ['postgres', 'kurrentdb'] as const, 'postgres'),
    kurrentDbConnectionString: r.string('KURRENTDB_CONNECTION_STRING'),
    retentionYears: r.int('RETENTION_YEARS', 5, 1, 100),
    retentionKeepResearchSample: r.bool('RETENTION_KEEP_RESEARCH_SAMPLE', true),
    retentionScheduleHours: r.int('RETENTION_SCHEDULE_HOURS', 0, 0, 8760),
    rateLimitPerMinute: r.int('RATE_LIMIT_PER_MINUTE', 1200, 1, 1_000_000),
    trustProxy: trustProxy(r),
    corsOrigins: (r.string('CORS_ORIGINS', '') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    minPositionTimeoutMs: r.int('MIN_POSITION_TIMEOUT_MS', 5000, 10, 60_000),
    projectionLagReadyThreshold: r.int('PROJECTION_LAG_READY_THRESHOLD', 10_000, 0, 100_000_000),
    accessLogRetentionDays: r.int('ACCESS_LOG_RETENTION_DAYS', 3650, 30, 36500),
  };
  if (config.eventStore === 'kurrentdb' && !config.kurrentDbConnectionString) {
    r.problems.push({ variable: 'KURRENTDB_CONNECTION_STRING', message: 'is required when EVENT_STORE=kurrentdb' });
  }
  if (nodeEnv === 'production') {
    if (!config.auth.jwksUrl && !config.auth.jwtSecret) {
      r.problems.push({ variable: 'AUTH_JWKS_URL', message: 'is required in production (or AUTH_JWT_SECRET for HS256)' });
    }
    if (config.auth.jwksUrl && (!config.auth.issuer || !config.auth.audience)) {
      r.problems.push({ variable: config.auth.issuer ? 'AUTH_AUDIENCE' : 'AUTH_ISSUER', message: 'is required with AUTH_JWKS_URL' });
    }
    if (config.oidcClientId && !config.auth.issuer) {
      r.problems.push({ variable: 'AUTH_ISSUER', message: 'is required with OIDC_CLIENT_ID (the web sign-in discovers the provider from it)' });
    }
    if (!config.masterKey) r.problems.push({ variable: 'MASTER_KEY', message: 'is required in production (or MASTER_KEY_FILE)' });
    if (!config.pseudonymKey) r.problems.push({ variable: 'PSEUDONYM_KEY', message: 'is required in production (or PSEUDONYM_KEY_FILE)' });
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/** Config with every secret present: dev secrets are filled in from the data dir (see dev-secrets.ts). */
export type ResolvedConfig = AppConfig & {
  masterKey: Buffer;
  pseudonymKey: Buffer;
};
