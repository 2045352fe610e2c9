import type { Round } from '../api/types';

/** The round a registration day is about: the open round with the latest reference date. */
export function defaultOpenRound(rounds: readonly Round[]): Round | undefined {
  return [...rounds].filter((r) => r.status === 'open').sort((a, b) => (a.referenceDate < b.referenceDate ? 1 : -1))[0];
}

/** Rounds oldest first, by reference date. */
export function chronological(rounds: readonly Round[]): Round[] {
  return [...rounds].sort((a, b) => (a.referenceDate < b.referenceDate ? -1 : a.referenceDate > b.referenceDate ? 1 : a.label.localeCompare(b.label)));
}

/** The round before `id` in time, for comparisons. */
export function previousRound(rounds: readonly Round[], id: string): Round | undefined {
  const list = chronological(rounds);
  const i = list.findIndex((r) => r.id === id);
  return i > 0 ? list[i - 1] : undefined;
}
