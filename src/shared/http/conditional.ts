import type { FastifyReply } from 'fastify';
import { Problem } from './problem.js';

/**
 * `If-Match: "<version>"` (also W/"…" or a bare number) → the expected stream version;
 * undefined when absent. `*` means "any existing version" and is treated as absent.
 */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header[0]! : header).trim();
  if (raw === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(raw);
  if (!m) throw Problem.badRequest('If-Match must be an ETag such as "3".', [{ path: 'If-Match', message: 'must be an ETag such as "3"' }]);
  return Number(m[1]);
}

export function preconditionFailed(current: number): Problem {
  return new Problem(412, 'precondition-failed', `The case has changed: its current version is ${current}.`, { currentVersion: current, headers: { ETag: `"${current}"` } });
}

/** `?minPosition=` → a non-negative integer or undefined. */
export function parseMinPosition(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw Problem.badRequest('minPosition must be a non-negative integer.', [{ path: 'minPosition', message: 'must be a non-negative integer' }]);
  }
  return Number(value);
}

/** What every command response carries: the stream version and the global position of its last event. */
export function setCommandHeaders(reply: FastifyReply, outcome: { version?: number; position: number }): void {
  if (outcome.version !== undefined) void reply.header('ETag', `"${outcome.version}"`);
  void reply.header('X-Event-Position', String(outcome.position));
}
