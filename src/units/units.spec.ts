import { UNITS, isUnitCode } from './units.js';

describe('units', () => {
  it('are the four units of API.md with their Swedish names', () => {
    expect(UNITS).toEqual([
      { code: 'forsorjningsstod', name: 'Försörjningsstöd' },
      { code: 'vuxenstod', name: 'Vuxenstöd' },
      { code: 'arbete-och-integration', name: 'Arbete och Integration' },
      { code: 'rehabilitering-och-utveckling', name: 'Rehabilitering och Utveckling' },
    ]);
    expect(isUnitCode('vuxenstod')).toBe(true);
    expect(isUnitCode('Vuxenstöd')).toBe(false);
  });
});
