import { luhnCheckDigit } from '../../src/shared/privacy/personal-identity-number.js';

/**
 * Valid test personnummer, computed rather than copied: real numbers never appear in tests.
 * `serial` is NNN (0–999); its last digit is odd for men, even for women.
 */
export function makePersonnummer(
  date: string,
  serial: number,
  opts: { coordination?: boolean; hyphen?: boolean } = {},
): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`makePersonnummer: date must be YYYY-MM-DD, got ${date}`);
  if (!Number.isInteger(serial) || serial < 0 || serial > 999) throw new Error('makePersonnummer: serial must be 0–999');
  const [, yyyy, mm, dd] = m as unknown as [string, string, string, string];
  const day = opts.coordination ? String(Number(dd) + 60) : dd;
  const nnn = String(serial).padStart(3, '0');
  const check = luhnCheckDigit(yyyy.slice(2) + mm + day + nnn);
  return `${yyyy}${mm}${day}${opts.hyphen ? '-' : ''}${nnn}${check}`;
}

/**
 * `count` distinct valid personnummer, deterministic for a given `seed` (so a failing test can be
 * rerun with the same people), born 1950–2005, about half women.
 */
export function manyPersonnummer(count: number, seed = 1): string[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: enough spread for test data, and reproducible.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const out = new Set<string>();
  while (out.size < count) {
    const year = 1950 + (next() % 56);
    const month = 1 + (next() % 12);
    const day = 1 + (next() % 28);
    const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    out.add(makePersonnummer(date, next() % 1000));
  }
  return [...out];
}

/**
 * Every way a personnummer could leak in clear text: 12 digits, with hyphen, and the 10-digit
 * forms (YYMMDDNNNC, YYMMDD-NNNC). Feed these to `scanForClearText`.
 */
export function personnummerVariants(pin: string): string[] {
  const d = pin.replace(/\D/g, '');
  if (d.length !== 12) throw new Error(`personnummerVariants: expected 12 digits, got ${pin}`);
  return [d, `${d.slice(0, 8)}-${d.slice(8)}`, d.slice(2), `${d.slice(2, 8)}-${d.slice(8)}`];
}
