import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { parsePersonalIdentityNumber } from './personal-identity-number.js';

/**
 * DTO decorator: a valid 12-digit personnummer or samordningsnummer (see
 * personal-identity-number.ts). The 400 names exactly what is wrong, e.g.
 * `personalIdentityNumber has a wrong check digit: expected 2, got 3`. Handlers still call
 * parsePersonalIdentityNumber for the normalized form and birth date.
 */
export function IsPersonalIdentityNumber(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPersonalIdentityNumber',
      validator: {
        validate: (value: unknown) => parsePersonalIdentityNumber(value).ok,
        defaultMessage: (args?: ValidationArguments) => {
          const r = parsePersonalIdentityNumber(args?.value);
          return `${args?.property ?? 'value'} ${r.ok ? 'is not valid' : r.error}`;
        },
      },
    },
    options,
  );
}
