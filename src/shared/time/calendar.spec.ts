import { isCalendarDate, isYearMonth, stockholmDate } from './calendar.js';

describe('calendar dates', () => {
  it('accepts real dates and rejects impossible ones', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-02-30')).toBe(false);
    expect(isCalendarDate('2026-13-01')).toBe(false);
    expect(isCalendarDate('2026-1-01')).toBe(false);
    expect(isCalendarDate(20260101)).toBe(false);
  });
  it('accepts months YYYY-MM', () => {
    expect(isYearMonth('2026-12')).toBe(true);
    expect(isYearMonth('2026-00')).toBe(false);
    expect(isYearMonth('2026-1')).toBe(false);
  });
  it('reads the date in Stockholm, not UTC', () => {
    // 23:30 UTC on 31 Dec is already New Year in Stockholm (UTC+1)
    expect(stockholmDate(new Date('2025-12-31T23:30:00Z'))).toBe('2026-01-01');
    // 22:30 UTC in summer is 00:30 next day (UTC+2)
    expect(stockholmDate(new Date('2026-06-30T22:30:00Z'))).toBe('2026-07-01');
  });
  it('turns the date at Stockholm midnight to the millisecond, one call after the other (the date is kept per minute)', () => {
    expect(stockholmDate(new Date('2026-06-30T21:59:59.999Z'))).toBe('2026-06-30');
    expect(stockholmDate(new Date('2026-06-30T22:00:00.000Z'))).toBe('2026-07-01');
    expect(stockholmDate(new Date('2026-06-30T21:59:30.000Z'))).toBe('2026-06-30');
    // The night summer time ends (03:00 CEST → 02:00 CET on 25 Oct 2026): still one date change, at midnight.
    expect(stockholmDate(new Date('2026-10-24T21:59:59.999Z'))).toBe('2026-10-24');
    expect(stockholmDate(new Date('2026-10-24T22:00:00.000Z'))).toBe('2026-10-25');
    expect(stockholmDate(new Date('2026-10-25T22:59:59.999Z'))).toBe('2026-10-25');
    expect(stockholmDate(new Date('2026-10-25T23:00:00.000Z'))).toBe('2026-10-26');
  });
});
