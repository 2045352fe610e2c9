/**
 * Calendar dates are Europe/Stockholm dates (API.md "General"). The clock is read only at the
 * edges (handlers), and passed into the pure domain as `today`.
 */
const stockholm = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' });

let cachedMinute = Number.NaN;
let cachedDate = '';

/**
 * The calendar date in Stockholm at instant `at`, as YYYY-MM-DD. Kept for the minute: Stockholm's
 * offset from UTC is whole hours, so its date changes only on a minute boundary (and Intl's
 * formatting is a measurable share of a request's CPU when every request asks for today).
 */
export function stockholmDate(at: Date = new Date()): string {
  const minute = Math.floor(at.getTime() / 60_000);
  if (minute !== cachedMinute) {
    cachedDate = stockholm.format(at);
    cachedMinute = minute;
  }
  return cachedDate;
}

/** True for a real calendar date written YYYY-MM-DD (2026-02-30 is not one). */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  if (y < 1800 || m < 1 || m > 12 || d < 1) return false;
  return d <= daysInMonth(y, m);
}

/** True for a month written YYYY-MM. */
export function isYearMonth(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}$/.test(value)) return false;
  const [y, m] = value.split('-').map(Number) as [number, number];
  return y >= 1900 && m >= 1 && m <= 12;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
