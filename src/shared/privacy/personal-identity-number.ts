import { stockholmDate } from '../time/calendar.js';
/**
 * Swedish personnummer and samordningsnummer (coordination number), in the 12-digit form the
 * API takes: `YYYYMMDDNNNC` or `YYYYMMDD-NNNC`. The 10-digit forms are refused on purpose:
 * their century is a guess (the `-`/`+` separator rule), and a wrong guess is a wrong person.
 *
 * Pure: "today" (for refusing future birth dates) is a parameter; the default is today's date in
 * Europe/Stockholm, where the numbers are issued.
 */
export interface PersonalIdentityNumber {
  /** 12 digits, no separator: the only form stored (encrypted) or hashed into a pseudonym. */
  normalized: string;
  /** YYYY-MM-DD; for a samordningsnummer the real date (day − 60). */
  birthDate: string;
  birthYear: number;
  isCoordinationNumber: boolean;
}

export type ParseResult = { ok: true; value: PersonalIdentityNumber } | { ok: false; error: string };

/** Older than anyone alive; anything earlier is a typing error, not a person. */
const EARLIEST_BIRTH_YEAR = 1880;
const COORDINATION_OFFSET = 60;

export function parsePersonalIdentityNumber(input: unknown, today: string = todayInStockholm()): ParseResult {
  if (typeof input !== 'string') return fail('must be a string of 12 digits (YYYYMMDDNNNC or YYYYMMDD-NNNC)');
  const m = /^(\d{4})(\d{2})(\d{2})-?(\d{3})(\d)$/.exec(input.trim());
  if (!m) {
    const digits = input.replace(/\D/g, '');
    return fail(
      digits.length === 10
        ? 'must have 12 digits including the century (YYYYMMDDNNNC); the 10-digit form is ambiguous'
        : 'must be 12 digits as YYYYMMDDNNNC or YYYYMMDD-NNNC',
    );
  }
  const [, yyyy, mm, dd, serial, check] = m as unknown as [string, string, string, string, string, string];
  const year = Number(yyyy);
  const month = Number(mm);
  const rawDay = Number(dd);
  const isCoordinationNumber = rawDay > COORDINATION_OFFSET;
  const day = isCoordinationNumber ? rawDay - COORDINATION_OFFSET : rawDay;

  if (year < EARLIEST_BIRTH_YEAR) return fail(`has an implausible birth year: ${yyyy}`);
  if (month < 1 || month > 12) return fail(`has no valid month: ${mm}`);
  if (day < 1 || day > daysInMonth(year, month)) {
    return fail(
      isCoordinationNumber
        ? `is a samordningsnummer (day ${dd} = day ${pad(day)} + 60), but ${yyyy}-${mm}-${pad(day)} is not a date`
        : `has no valid date: ${yyyy}-${mm}-${dd} does not exist (a samordningsnummer has day + 60)`,
    );
  }
  const birthDate = `${yyyy}-${mm}-${pad(day)}`;
  if (birthDate > today) return fail(`has a birth date in the future: ${birthDate}`);

  const expected = luhnCheckDigit(yyyy.slice(2) + mm + dd + serial);
  if (expected !== Number(check)) return fail(`has a wrong check digit: expected ${expected}, got ${check}`);

  return {
    ok: true,
    value: { normalized: yyyy + mm + dd + serial + check, birthDate, birthYear: year, isCoordinationNumber },
  };
}

/**
 * The Luhn digit over the nine digits YYMMDDNNN (the century is not part of the check): weights
 * 2,1,2,1,…, digits of each product summed.
 */
export function luhnCheckDigit(nineDigits: string): number {
  if (!/^\d{9}$/.test(nineDigits)) throw new Error('luhnCheckDigit needs exactly 9 digits');
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    const p = Number(nineDigits[i]) * (i % 2 === 0 ? 2 : 1);
    sum += p > 9 ? p - 9 : p;
  }
  return (10 - (sum % 10)) % 10;
}

/** YYYYMMDD-NNNC, the way people write it (for display only; store `normalized`). */
export function formatPersonalIdentityNumber(normalized: string): string {
  return `${normalized.slice(0, 8)}-${normalized.slice(8)}`;
}

// sv-SE formats as YYYY-MM-DD. One formatter for the process: building one costs far more than
// formatting with it, and every registration validates a number (twice: DTO and handler).
export function todayInStockholm(now: Date = new Date()): string {
  return stockholmDate(now);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}
