import fc from 'fast-check';
import { makePersonnummer } from '../../../test/support/personnummer.js';
import { formatPersonalIdentityNumber, luhnCheckDigit, parsePersonalIdentityNumber, todayInStockholm } from './personal-identity-number.js';

const TODAY = '2026-03-15';
const parse = (s: unknown) => parsePersonalIdentityNumber(s, TODAY);
const errorOf = (s: unknown) => {
  const r = parse(s);
  if (r.ok) throw new Error(`expected ${String(s)} to be rejected`);
  return r.error;
};

/** The textbook Luhn test over all ten digits, written independently of luhnCheckDigit. */
function luhnValid(tenDigits: string): boolean {
  const sum = [...tenDigits].reverse().reduce((acc, ch, i) => {
    const d = Number(ch) * (i % 2 === 1 ? 2 : 1);
    return acc + Math.floor(d / 10) + (d % 10);
  }, 0);
  return sum % 10 === 0;
}

describe('parsePersonalIdentityNumber', () => {
  describe('valid numbers', () => {
    it("accepts Skatteverket's published test number 19121212-1212 in both forms", () => {
      for (const input of ['191212121212', '19121212-1212']) {
        expect(parse(input)).toEqual({
          ok: true,
          value: { normalized: '191212121212', birthDate: '1912-12-12', birthYear: 1912, isCoordinationNumber: false },
        });
      }
    });

    it('accepts a samordningsnummer (day + 60) and reports the real birth date', () => {
      const pin = makePersonnummer('1985-03-12', 234, { coordination: true });
      expect(pin.slice(6, 8)).toBe('72');
      expect(parse(pin)).toEqual({
        ok: true,
        value: { normalized: pin, birthDate: '1985-03-12', birthYear: 1985, isCoordinationNumber: true },
      });
    });

    it('accepts 29 February in a leap year, and day 31 of a long month', () => {
      expect(parse(makePersonnummer('2000-02-29', 1)).ok).toBe(true);
      expect(parse(makePersonnummer('1999-12-31', 998, { hyphen: true })).ok).toBe(true);
      expect(parse(makePersonnummer('2004-02-29', 1, { coordination: true })).ok).toBe(true);
    });

    it('accepts someone born today, and trims surrounding blanks', () => {
      expect(parse(makePersonnummer(TODAY, 42)).ok).toBe(true);
      expect(parse(` ${makePersonnummer('1970-01-01', 3)}\n`).ok).toBe(true);
    });

    it('accepts every generated number, whatever the date and serial (property)', () => {
      fc.assert(
        fc.property(
          fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-03-15T00:00:00Z'), noInvalidDate: true }),
          fc.integer({ min: 0, max: 999 }),
          fc.boolean(),
          fc.boolean(),
          (d, serial, coordination, hyphen) => {
            const date = d.toISOString().slice(0, 10);
            const r = parse(makePersonnummer(date, serial, { coordination, hyphen }));
            return r.ok && r.value.birthDate === date && r.value.isCoordinationNumber === coordination && r.value.normalized.length === 12;
          },
        ),
      );
    });
  });

  describe('invalid numbers, each with a precise message', () => {
    it('rejects a wrong check digit and names the expected one', () => {
      expect(errorOf('191212121213')).toBe('has a wrong check digit: expected 2, got 3');
    });

    it('rejects the 10-digit form, explaining that the century is missing', () => {
      expect(errorOf('121212-1212')).toMatch(/12 digits including the century/);
      expect(errorOf('1212121212')).toMatch(/10-digit form is ambiguous/);
    });

    it('rejects other shapes', () => {
      for (const bad of ['', '19121212+1212', '1912121212123', '19121212 1212', '1912-12-12-1212', 'abcdefghijkl', '19121212--1212']) {
        expect(errorOf(bad)).toBe('must be 12 digits as YYYYMMDDNNNC or YYYYMMDD-NNNC');
      }
      expect(errorOf(191212121212)).toMatch(/must be a string/);
      expect(errorOf(null)).toMatch(/must be a string/);
    });

    it('rejects impossible months and dates', () => {
      expect(errorOf(withCheck('19851312', '123'))).toBe('has no valid month: 13');
      expect(errorOf(withCheck('19850012', '123'))).toBe('has no valid month: 00');
      expect(errorOf(withCheck('19850100', '123'))).toMatch(/1985-01-00 does not exist/);
      expect(errorOf(withCheck('19850230', '123'))).toMatch(/1985-02-30 does not exist/);
      expect(errorOf(withCheck('19010229', '123'))).toMatch(/1901-02-29 does not exist/);
      expect(errorOf(withCheck('19850432', '123'))).toMatch(/does not exist/);
    });

    it('rejects day 32–60 and a samordningsnummer whose real date does not exist', () => {
      expect(errorOf(withCheck('19850145', '123'))).toMatch(/1985-01-45 does not exist/);
      expect(errorOf(withCheck('19850160', '123'))).toMatch(/1985-01-60 does not exist/);
      expect(errorOf(withCheck('19850290', '123'))).toBe('is a samordningsnummer (day 90 = day 30 + 60), but 1985-02-30 is not a date');
      expect(errorOf(withCheck('19850192', '123'))).toMatch(/samordningsnummer/);
    });

    it('rejects a birth date in the future, also for a samordningsnummer', () => {
      expect(errorOf(makePersonnummer('2026-03-16', 1))).toBe('has a birth date in the future: 2026-03-16');
      expect(errorOf(makePersonnummer('2030-01-01', 1, { coordination: true }))).toBe('has a birth date in the future: 2030-01-01');
    });

    it('rejects an implausible birth year', () => {
      expect(errorOf(withCheck('18791231', '123'))).toBe('has an implausible birth year: 1879');
    });

    it('rejects every single-digit change of the check digit (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 9 }), (serial, delta) => {
          const pin = makePersonnummer('1990-06-15', serial);
          const wrong = pin.slice(0, 11) + String((Number(pin[11]) + delta) % 10);
          return !parse(wrong).ok;
        }),
      );
    });
  });
});

describe('luhnCheckDigit', () => {
  it('agrees with the textbook Luhn test over all ten digits (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (nine) => luhnValid(nine + luhnCheckDigit(nine)) && !luhnValid(nine + ((luhnCheckDigit(nine) + 1) % 10))),
    );
  });

  it('refuses anything but nine digits', () => {
    expect(() => luhnCheckDigit('12345678')).toThrow();
  });
});

describe('helpers', () => {
  it('formats with a hyphen', () => {
    expect(formatPersonalIdentityNumber('191212121212')).toBe('19121212-1212');
  });

  it("gives today's date in Stockholm, which differs from UTC around midnight", () => {
    expect(todayInStockholm(new Date('2026-06-30T22:30:00Z'))).toBe('2026-07-01');
    expect(todayInStockholm(new Date('2026-01-01T22:59:59Z'))).toBe('2026-01-01');
  });
});

/** A 12-digit number with a correct check digit for the given (possibly invalid) date digits. */
function withCheck(yyyymmdd: string, nnn: string): string {
  return yyyymmdd + nnn + luhnCheckDigit(yyyymmdd.slice(2) + nnn);
}
