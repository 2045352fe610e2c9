/**
 * Master-key rotation: `npm run rotate-master-key` with
 *   DATABASE_URL     the service's database
 *   MASTER_KEY       the current master key (or MASTER_KEY_FILE)
 *   NEW_MASTER_KEY   the new one (or NEW_MASTER_KEY_FILE), 32 bytes as 64 hex characters or base64
 *
 * Re-wraps every person's data key in one transaction (registrations wait meanwhile); nothing
 * else changes: ciphertexts are under the data keys, not the master key. Then set MASTER_KEY to
 * the new key and restart every instance. Running it again is harmless (keys already under the
 * new key are skipped), so it can also be rerun after the restart to catch keys that a
 * still-running old instance wrapped in between.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { masterKeyId, rotateMasterKey, UnknownMasterKey } from '../src/shared/privacy/vault.js';

class UsageError extends Error {}

function readKey(env: NodeJS.ProcessEnv, name: string): Buffer {
  let value = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (!value && file) value = readFileSync(file, 'utf8').trim();
  if (!value) throw new UsageError(`${name} (or ${name}_FILE) is required`);
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new UsageError(`${name} must be 32 bytes, as 64 hex characters or base64`);
  return key;
}

async function main(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = env.DATABASE_URL?.trim();
  if (!url) throw new UsageError('DATABASE_URL is required (for the embedded development database, use the URL `npm start` prints)');
  const oldKey = readKey(env, 'MASTER_KEY');
  const newKey = readKey(env, 'NEW_MASTER_KEY');
  if (oldKey.equals(newKey)) throw new UsageError('NEW_MASTER_KEY is the same as MASTER_KEY');
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'vagen-rotate-master-key' });
  try {
    const n = await rotateMasterKey(pool, [oldKey], newKey);
    return (
      `Re-wrapped ${n} data key(s) from master key ${masterKeyId(oldKey)} to ${masterKeyId(newKey)}.\n` +
      'Now set MASTER_KEY to the new key and restart every instance.'
    );
  } finally {
    await pool.end();
  }
}

main().then(
  (message) => console.log(message),
  (e: unknown) => {
    // A wrong key is an operator mistake, not a crash: say which key the data is under. Nothing was changed.
    const expected = e instanceof UsageError || e instanceof UnknownMasterKey;
    console.error(expected ? `rotate-master-key: ${e.message}. Nothing was changed.` : e);
    process.exit(expected ? 2 : 1);
  },
);
