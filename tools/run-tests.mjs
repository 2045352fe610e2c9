#!/usr/bin/env node
// `npm test`: runs Jest (ESM mode) and ends with the plain line "N passed, N failed".
// Extra arguments go to Jest (e.g. `npm test -- test/foundation`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A file of its own per run (parallel runs must not read each other's counts); .ci/run names it.
const out = process.env.VAGEN_TEST_RESULTS ?? path.join(tmpdir(), `vagen-test-results-${process.pid}.json`);
rmSync(out, { force: true });
const args = ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-warnings=ExperimentalWarning'].filter(Boolean).join(' ') } });
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const s = JSON.parse(readFileSync(out, 'utf8'));
  passed = s.numPassedTests;
  failed = s.numFailedTests + (s.numRuntimeErrorTestSuites ?? 0);
  skipped = s.numPendingTests + s.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
