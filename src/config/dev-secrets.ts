import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig, ResolvedConfig } from './config.js';

export interface DevSecrets {
  jwtSecret: string;
  masterKey: string;
  pseudonymKey: string;
}

/**
 * For the embedded/demo default only: random secrets generated once and kept in the data dir,
 * so that `npm run token` and a restarted server agree, and encrypted data stays readable
 * across restarts. Production must configure its own (config.ts refuses to start without).
 */
export function readOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    masterKey: randomBytes(32).toString('base64'),
    pseudonymKey: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function resolveSecrets(config: AppConfig): ResolvedConfig {
  if (config.masterKey && config.pseudonymKey && (config.auth.jwtSecret || config.auth.jwksUrl)) {
    return config as ResolvedConfig;
  }
  const dev = readOrCreateDevSecrets(config.dataDir);
  return {
    ...config,
    auth: { ...config.auth, jwtSecret: config.auth.jwtSecret ?? (config.auth.jwksUrl ? undefined : dev.jwtSecret) },
    masterKey: config.masterKey ?? Buffer.from(dev.masterKey, 'base64'),
    pseudonymKey: config.pseudonymKey ?? Buffer.from(dev.pseudonymKey, 'base64'),
  };
}
