import 'reflect-metadata';
import { createApp, type RunningApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveSecrets } from './config/dev-secrets.js';
import { signDevToken } from './shared/auth/dev-token.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './shared/database/embedded-postgres.js';
import cluster from 'node:cluster';
import path from 'node:path';
import { ClusterSupervisor, WORKER_ENV } from './shared/process/cluster-supervisor.js';
import { onStarted } from './startup.js';

async function main(): Promise<void> {
  let config;
  try {
    config = resolveSecrets(loadConfig());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  // This process owns its signals. embedded-postgres installs its own SIGINT/SIGTERM handlers
  // (async-exit-hook) that stop PostgreSQL and exit with 130/143 while the app may still be
  // answering requests; they are removed so the order is always: HTTP server and Nest modules
  // first, then PostgreSQL, then exit 0. Its `exit` hook stays: on any other exit it still
  // sends PostgreSQL a fast shutdown.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  if (cluster.isPrimary && config.workers > 1) return supervise(config);
  // 0: the only process; 1…n: a worker of WORKERS=n (worker 1 prints the welcome).
  const worker = cluster.isWorker ? Number(process.env[WORKER_ENV] ?? 1) : 0;
  let embedded: EmbeddedDatabase | undefined;
  let running: RunningApp | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      // A worker hears Ctrl-C from the terminal and the primary's SIGTERM: one stop is enough.
      if (worker) return;
      console.log(`${signal} received again, exiting now`);
      process.exit(130);
    }
    stopping = true;
    if (worker <= 1) console.log(`\n${signal} received, shutting down…`);
    const force = setTimeout(() => {
      console.error('Shutdown took longer than 15 s, exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    let code = 0;
    try {
      await running?.close();
    } catch (e) {
      console.error('Error while closing the app:', e);
      code = 1;
    }
    await embedded?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // A worker whose primary is gone (killed) stops too, rather than serving unsupervised.
  if (worker) process.on('disconnect', () => void shutdown('disconnect from the primary process'));

  if (!config.databaseUrl) {
    embedded = await startEmbedded(config);
    config = { ...config, databaseUrl: embedded.url };
  }
  running = await createApp(config);
  try {
    await running.app.listen({ port: config.port, host: config.host });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`Port ${config.port} on ${config.host} is already in use: set PORT to another port (PORT=0 picks a free one).`);
      await running.close();
      await embedded?.stop();
      process.exit(1);
    }
    throw e;
  }
  const address = running.app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  await onStarted(running, config, base);
  if (worker > 1) return;
  console.log(`\nVägen is running at ${base}${worker ? ` (${config.workers} worker processes)` : ''}`);
  console.log(`API docs:  ${base}/api/docs   (OpenAPI JSON: ${base}/api/docs-json)`);
  console.log(`Health:    ${base}/health/ready   Metrics: ${base}/metrics`);
  if (config.auth.jwtSecret && config.nodeEnv !== 'production') {
    console.log('\nDemo tokens (municipality 2281, valid 12 h):');
    for (const role of ['caseworker', 'process_owner', 'evaluator', 'admin'] as const) {
      const token = await signDevToken(config.auth.jwtSecret, { sub: `demo-${role}`, name: `Demo ${role}`, roles: [role], municipalities: ['2281'] });
      console.log(`  ${role.padEnd(13)} ${token}`);
    }
    console.log('More: npm run token -- --role caseworker --municipality 2281');
  }
}

/** PostgreSQL in the data dir, when there is no DATABASE_URL. */
async function startEmbedded(config: ReturnType<typeof resolveSecrets>): Promise<EmbeddedDatabase> {
  const embedded = await startEmbeddedPostgres({
    dir: path.join(config.dataDir, 'pg'),
    preferredPort: config.embeddedPgPort,
    log: config.embeddedPgLog ? (m) => console.log(`[postgres] ${m}`) : undefined,
  });
  console.log(`Embedded PostgreSQL on port ${embedded.port} (data in ${path.join(config.dataDir, 'pg')})`);
  return embedded;
}

/**
 * WORKERS=n: this process only supervises n workers (see ClusterSupervisor), which run the app;
 * it starts and stops the embedded PostgreSQL when there is no DATABASE_URL.
 */
async function supervise(config: ReturnType<typeof resolveSecrets>): Promise<void> {
  let embedded: EmbeddedDatabase | undefined;
  let supervisor: ClusterSupervisor | undefined;
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${reason}, shutting down…`);
    await supervisor?.stop();
    await embedded?.stop();
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(`${signal} received`, 0));
  if (!config.databaseUrl) embedded = await startEmbedded(config);
  console.log(`Starting ${config.workers} worker processes…`);
  supervisor = new ClusterSupervisor({ workers: config.workers, env: embedded ? { DATABASE_URL: embedded.url } : {}, log: console.log });
  void supervisor.failed.then((e) => {
    console.error(`Vägen failed: ${e.message}`);
    return stop('A worker failed', 1);
  });
  await supervisor.start();
}

main().catch((e: unknown) => {
  console.error('Vägen failed to start:', e instanceof Error ? e.stack : e);
  process.exit(1);
});
