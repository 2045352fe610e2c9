import 'reflect-metadata';
import { createApp, type RunningApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveSecrets } from './config/dev-secrets.js';
import { signDevToken } from './shared/auth/dev-token.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './shared/database/embedded-postgres.js';
import path from 'node:path';
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
  let embedded: EmbeddedDatabase | undefined;
  let running: RunningApp | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, shutting down…`);
    try {
      await running?.close();
    } finally {
      await embedded?.stop();
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      preferredPort: config.embeddedPgPort,
      log: config.embeddedPgLog ? (m) => console.log(`[postgres] ${m}`) : undefined,
    });
    config = { ...config, databaseUrl: embedded.url };
    console.log(`Embedded PostgreSQL on port ${embedded.port} (data in ${path.join(config.dataDir, 'pg')})`);
  }
  running = await createApp(config);
  await running.app.listen({ port: config.port, host: config.host });
  const address = running.app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  await onStarted(running, config, base);
  console.log(`\nVägen is running at ${base}`);
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

main().catch((e: unknown) => {
  console.error('Vägen failed to start:', e instanceof Error ? e.stack : e);
  process.exit(1);
});
