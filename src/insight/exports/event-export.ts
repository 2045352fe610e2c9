import { CASE_EVENT_TYPES } from '../../cases/case.events.js';
import type { StoredEvent } from '../../shared/event-store/event-store.port.js';
import { caseIdOfStream } from '../../shared/streams.js';

/**
 * One line of the event export (API.md): the log as an evaluator may see it. The person appears
 * only as their pseudonym (the keyed hash already in the events; no personnummer is ever in the
 * log), free text is dropped (every `…Ciphertext` field: reasons are encrypted with the person's
 * key and mean nothing without it anyway), and caseworkers appear as staff pseudonyms.
 *
 * Only the stable domain types are exported; anything else in the log (future types, technical
 * events) is left out rather than guessed safe.
 */
export const EXPORTED_TYPES = [
  ...CASE_EVENT_TYPES,
  'RoundOpened',
  'RoundClosed',
  'QuestionnairePublished',
  'PersonErased',
] as const;

export interface ExportedEvent {
  position: number;
  municipality: string;
  stream: string;
  pseudonym: string | null;
  type: string;
  schemaVersion: number;
  effectiveDate: string | null;
  recordedAt: string;
  data: Record<string, unknown>;
}

/** Fields naming a caseworker: replaced by the staff pseudonym. */
const STAFF_FIELDS = ['assessedBy', 'correctedBy'];
/** Not exported: a keyed hash of an admin's free-text reason (PersonErased) is still about free text. */
const DROPPED_FIELDS = ['reasonHash'];

export function exportEvent(e: StoredEvent, pseudonym: string | null, staff: (userId: string) => string): ExportedEvent {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data)) {
    if (k.endsWith('Ciphertext') || DROPPED_FIELDS.includes(k)) continue;
    data[k] = STAFF_FIELDS.includes(k) && typeof v === 'string' ? staff(v) : v;
  }
  return {
    position: e.position,
    municipality: e.tenant,
    stream: e.stream,
    pseudonym: pseudonym ?? (typeof e.data.pseudonym === 'string' ? e.data.pseudonym : null),
    type: e.type,
    schemaVersion: e.schemaVersion,
    effectiveDate: typeof e.metadata.effectiveDate === 'string' ? e.metadata.effectiveDate : null,
    recordedAt: e.recordedAt.toISOString(),
    data,
  };
}

/** The case id of an event's stream, for the pseudonym lookup (null for municipality-wide streams). */
export function caseOf(e: { stream: string }): string | null {
  return caseIdOfStream(e.stream) ?? null;
}
