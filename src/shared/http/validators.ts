import { registerDecorator, type ValidationOptions } from 'class-validator';
import { isCalendarDate, isYearMonth } from '../time/calendar.js';

/** A real calendar date `YYYY-MM-DD` (rejects 2026-02-30, unlike a plain pattern). */
export function IsCalendarDate(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isCalendarDate',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a real date written YYYY-MM-DD`, ...options },
      validator: { validate: (v: unknown) => isCalendarDate(v) },
    });
}

/** A month `YYYY-MM`. */
export function IsYearMonth(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isYearMonth',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a month written YYYY-MM`, ...options },
      validator: { validate: (v: unknown) => isYearMonth(v) },
    });
}
