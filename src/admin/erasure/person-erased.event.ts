import type { StoredEvent } from '../../shared/event-store/event-store.port.js';

/**
 * A person's data in one municipality was erased (crypto-shredding, API.md "Administration").
 *
 * Stream: `erasures-<kommunkod>` (streams.erasures), one per municipality, not the case streams:
 * a case stream holds only case events (the case decider refuses anything else), and one
 * erasure covers every case of the person at once. The log stays append-only; this event is the
 * only trace of the erasure in it.
 *
 * Data is pseudonymous only: the pseudonym (so projections keyed by person can drop their rows)
 * and the erased case ids (so projections keyed by case, and exports, can drop theirs even if the
 * person is registered again later under the same pseudonym). Never a personnummer, never free
 * text: the admin's reason is kept as a keyed hash (`reasonHash`), enough to check a given
 * wording against it, not to read it. Who erased is `metadata.actor`, when is `recordedAt`.
 */
export const PERSON_ERASED = 'PersonErased';

export const ERASURE_BASES = ['request', 'retention'] as const;
export type ErasureBasis = (typeof ERASURE_BASES)[number];

export interface PersonErasedData {
  pseudonym: string;
  /** Every case of the person in the municipality at the moment of erasure, sorted. */
  caseIds: string[];
  /** `request`: an admin's erasure; `retention`: culled by the retention rule (gallring). */
  basis: ErasureBasis;
  /** HMAC-SHA256 (hex) of the reason under a key derived from the pseudonym key. */
  reasonHash: string;
}

/** The erased case ids of a PersonErased event (as stored; tolerant of a malformed one). */
export function erasedCaseIdsOf(e: Pick<StoredEvent, 'data'>): string[] {
  const ids = (e.data as Partial<PersonErasedData>).caseIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}
