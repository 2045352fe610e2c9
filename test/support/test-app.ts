import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { createApp, type RunningApp } from '../../src/app.factory.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/config.js';
import { signDevToken } from '../../src/shared/auth/dev-token.js';
import type { Role } from '../../src/shared/auth/principal.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApp {
  running: RunningApp;
  config: ResolvedConfig;
  db: TestDatabase;
  /** A pool of its own for assertions straight against the database. */
  pool: pg.Pool;
  url: string;
  http: () => ReturnType<typeof request>;
  token(roles: Role | Role[], municipalities?: string[], sub?: string): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(databaseUrl: string, overrides: Partial<ResolvedConfig> = {}): ResolvedConfig {
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return {
    ...base,
    databaseUrl,
    dbPoolSize: 10,
    auth: { jwtSecret: TEST_JWT_SECRET, jwksUrl: undefined, issuer: undefined, audience: undefined },
    masterKey: randomBytes(32),
    pseudonymKey: randomBytes(32),
    demo: false,
    // Suites send many requests from one address and user; the rate-limit test sets its own.
    rateLimitPerMinute: 1_000_000,
    ...overrides,
  };
}

/** The real service on a fresh database copy, listening on a random port: tests speak real HTTP. */
export async function startTestApp(opts: { config?: Partial<ResolvedConfig>; extraModules?: Type[]; label?: string } = {}): Promise<TestApp> {
  const db = await createTestDatabase(opts.label ?? 'app');
  const config = testConfig(db.url, opts.config);
  const running = await createApp(config, { extraModules: opts.extraModules });
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const address = running.app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // pool.end() resolves before its sockets close; DROP DATABASE … WITH (FORCE) may then kill one.
  pool.on('error', () => undefined);
  return {
    running,
    config,
    db,
    pool,
    url,
    http: () => request(url),
    token: (roles, municipalities = ['2281'], sub) => {
      const list = Array.isArray(roles) ? roles : [roles];
      return signDevToken(TEST_JWT_SECRET, { sub: sub ?? `test-${list.join('-')}`, roles: list, municipalities });
    },
    async close() {
      await pool.end();
      await running.close();
      await db.drop();
    },
  };
}
