import { DomainError, type DomainErrorKind } from '../domain/domain-error.js';

/** SQLSTATE of a refusal raised by a guard in the database (public.vagen_refuse, migration 1764000650000). */
export const REFUSAL_SQLSTATE = 'VA422';

const KINDS: readonly DomainErrorKind[] = ['validation', 'conflict', 'not_found'];

/**
 * The DomainError a guard refused with in the database, or undefined for any other error. The
 * guard's statement travelled with a later one (CoalescingExecutor), so its refusal surfaces as
 * that statement's error; this turns it back into what a check in Node would have thrown.
 */
export function refusalOf(e: unknown): DomainError | undefined {
  const err = e as { code?: unknown; message?: unknown; detail?: unknown } | null;
  if (!err || err.code !== REFUSAL_SQLSTATE || typeof err.detail !== 'string') return undefined;
  const { kind, slug, details } = JSON.parse(err.detail) as { kind: DomainErrorKind; slug: string; details?: Record<string, unknown> };
  if (!KINDS.includes(kind)) return undefined;
  return new DomainError(kind, slug, String(err.message), [], details ?? {});
}
