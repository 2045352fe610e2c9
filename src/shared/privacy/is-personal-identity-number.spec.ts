import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { makePersonnummer } from '../../../test/support/personnummer.js';
import { flattenValidationErrors } from '../http/validation.js';
import { IsPersonalIdentityNumber } from './is-personal-identity-number.js';

class Body {
  @IsPersonalIdentityNumber() personalIdentityNumber: string;
}

const errorsFor = async (value: unknown) =>
  flattenValidationErrors(await validate(plainToInstance(Body, { personalIdentityNumber: value }), { validationError: { target: false, value: false } }));

describe('@IsPersonalIdentityNumber', () => {
  it('accepts valid numbers in both forms', async () => {
    expect(await errorsFor(makePersonnummer('1985-03-12', 123))).toEqual([]);
    expect(await errorsFor(makePersonnummer('1985-03-12', 123, { hyphen: true, coordination: true }))).toEqual([]);
  });

  it('reports exactly what is wrong, under the field path', async () => {
    expect(await errorsFor('191212121213')).toEqual([{ path: 'personalIdentityNumber', message: 'personalIdentityNumber has a wrong check digit: expected 2, got 3' }]);
    expect(await errorsFor('1212121212')).toEqual([{ path: 'personalIdentityNumber', message: expect.stringMatching(/10-digit form is ambiguous/) }]);
    expect(await errorsFor(undefined)).toEqual([{ path: 'personalIdentityNumber', message: expect.stringMatching(/must be a string/) }]);
  });
});
