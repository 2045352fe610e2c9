import type { DomainEvent } from '../shared/domain/decider.js';

/**
 * Events of a municipality's rounds stream (one stream per municipality holds all its rounds:
 * a few per year, and label uniqueness then needs no lookup outside the stream).
 */
export type RoundOpened = DomainEvent<
  'RoundOpened',
  {
    /** Chosen by the handler (uuid). */
    roundId: string;
    /** E.g. `2026-H1`; unique per municipality, compared case-insensitively. */
    label: string;
    /** The date whose state the round's snapshot shows (YYYY-MM-DD). */
    referenceDate: string;
    questionnaireVersion: number;
  }
> & { schemaVersion: 1 };

/**
 * The round was closed and its snapshot frozen. The freeze point is this event itself: the
 * snapshot "as known at closing" is every case open on the reference date folded from the
 * events with a global position below this event's position (its recordedAt is the time).
 * So the data needs no copy of the time or position.
 */
export type RoundClosed = DomainEvent<'RoundClosed', { roundId: string }> & { schemaVersion: 1 };

export type RoundEvent = RoundOpened | RoundClosed;
