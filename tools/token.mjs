#!/usr/bin/env node
// Prints a development token: npm run token -- --role caseworker --municipality 2281 [--sub anna] [--name "Anna A"] [--expires 12h]
// Uses AUTH_JWT_SECRET, or the dev secret that `npm start` keeps in the data dir.
import { SignJWT } from 'jose';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROLES = ['caseworker', 'process_owner', 'evaluator', 'admin'];
const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true },
    municipality: { type: 'string', multiple: true },
    sub: { type: 'string' },
    name: { type: 'string' },
    expires: { type: 'string', default: '12h' },
  },
});
const roles = (values.role ?? []).flatMap((r) => r.split(','));
const municipalities = (values.municipality ?? []).flatMap((m) => m.split(','));
const bad = [
  ...roles.filter((r) => !ROLES.includes(r)).map((r) => `unknown role "${r}" (one of ${ROLES.join(', ')})`),
  ...municipalities.filter((m) => !/^\d{4}$/.test(m)).map((m) => `municipality "${m}" is not a four-digit kommunkod`),
];
if (roles.length === 0) bad.push('--role is required');
if (municipalities.length === 0) bad.push('--municipality is required');
if (bad.length) {
  console.error(bad.join('\n') + '\nusage: npm run token -- --role caseworker --municipality 2281');
  process.exit(2);
}
let secret = process.env.AUTH_JWT_SECRET;
if (!secret) {
  const file = path.resolve(process.env.VAGEN_DATA_DIR ?? '.vagen-data', 'dev-secrets.json');
  if (!existsSync(file)) {
    console.error(`No AUTH_JWT_SECRET and no ${file}: run "npm start" once or set AUTH_JWT_SECRET.`);
    process.exit(2);
  }
  secret = JSON.parse(readFileSync(file, 'utf8')).jwtSecret;
}
const sub = values.sub ?? `dev-${roles[0]}`;
const token = await new SignJWT({ name: values.name ?? sub, roles, municipalities })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(sub)
  .setIssuedAt()
  .setExpirationTime(values.expires)
  .sign(new TextEncoder().encode(secret));
console.log(token);
