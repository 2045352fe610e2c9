import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { Type } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import type { ResolvedConfig } from './config/config.js';
import { createDataSource, migrate } from './shared/database/database.js';
import { installJsonParser, installTextParsers } from './shared/http/json-parser.js';
import { installSecurity, problemClientErrorHandler, problemFrameworkErrors } from './shared/http/security.js';
import { JwtVerifier } from './shared/auth/jwt.verifier.js';
import { createLogger, NestPinoLogger } from './shared/observability/logger.js';
import { Metrics } from './shared/observability/metrics.js';

export interface RunningApp {
  app: NestFastifyApplication;
  dataSource: DataSource;
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * Builds the whole service for a database URL: DataSource, migrations, Nest on Fastify,
 * HTTP plumbing and OpenAPI. Used by main.ts and by every end-to-end test, so tests run
 * exactly what users run.
 */
export async function createApp(
  config: ResolvedConfig,
  opts: { extraModules?: Type[]; /** Where JSON log lines go (default stdout); tests read them. */ logDestination?: DestinationStream } = {},
): Promise<RunningApp> {
  const dataSource = createDataSource(config.databaseUrl!, config.dbPoolSize);
  await dataSource.initialize();
  try {
    await migrate(dataSource);
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
  const metrics = new Metrics(config.nodeEnv !== 'test');
  const logger = createLogger(config.logLevel, opts.logDestination);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    loggerInstance: logger,
    // Not `requestIdHeader`: Fastify would take the client's header unchecked. A caller's id is
    // kept (to follow a request across services) only if it is short and plain.
    requestIdHeader: false,
    // Which proxies may tell us the client's address (X-Forwarded-For): per-IP limits and logs.
    // Fastify takes a hop count too; Nest's option type omits it.
    trustProxy: config.trustProxy as boolean | string[],
    clientErrorHandler: problemClientErrorHandler,
    frameworkErrors: problemFrameworkErrors,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, dataSource, metrics, extraModules: opts.extraModules }), adapter, {
    logger: new NestPinoLogger(logger),
    bufferLogs: false,
    // Our parsers only (json-parser.ts): Nest would otherwise register its own application/json
    // parser during init(), replacing the depth limit and the NUL and prototype-key checks.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  installJsonParser(fastify, config.jsonMaxDepth);
  installTextParsers(fastify);
  fastify.addHook('onRequest', async (req, reply) => {
    (req as unknown as { startedAt: bigint }).startedAt = process.hrtime.bigint();
    void reply.header('x-request-id', req.id);
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const started = (req as unknown as { startedAt?: bigint }).startedAt;
    const route = req.routeOptions?.url ?? 'unmatched';
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    if (started) metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  });
  // No enableShutdownHooks(): main.ts owns the signals and calls close(), which runs the same
  // Nest lifecycle hooks (onModuleDestroy, onApplicationShutdown) in a fixed order.
  if (config.corsOrigins.length > 0) app.enableCors({ origin: config.corsOrigins, exposedHeaders: ['ETag', 'Location', 'X-Event-Position', 'Idempotency-Replayed', 'Retry-After'] });
  // After CORS, so that a 429 to a browser of an allowed origin still carries its CORS headers.
  await installSecurity(app, app.get(JwtVerifier), { rateLimitPerMinute: config.rateLimitPerMinute });

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Vägen API')
      .setDescription(
        'Event-sourced case follow-up for "Vägen till hållbar egen försörjning". ' +
          'Errors are RFC 9457 problem+json. POST accepts Idempotency-Key; case commands accept If-Match; ' +
          'commands return X-Event-Position and reads accept minPosition. API requests are rate-limited per user (per IP address without a valid token): ' +
          'over the limit the answer is 429 problem+json with Retry-After. A command that collided with concurrent writes and wrote nothing answers ' +
          '409 concurrent-modification or 503 transient-conflict, both with Retry-After. See README for the full contract.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json' });
  await app.init();
  let closed = false;
  return {
    app,
    dataSource,
    metrics,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}
