import { chiSquareIndependence, chiSquareSurvival, logGamma } from './chi-square.js';

describe('chi-square test of independence', () => {
  it('matches critical values from the χ² table (p = 0.05 and 0.01)', () => {
    const table: [number, number, number][] = [
      [3.841, 1, 0.05], [5.991, 2, 0.05], [7.815, 3, 0.05], [18.307, 10, 0.05], [6.635, 1, 0.01], [23.209, 10, 0.01], [124.342, 100, 0.05],
    ];
    for (const [x, k, p] of table) expect(chiSquareSurvival(x, k)).toBeCloseTo(p, 3);
  });

  it('computes logGamma exactly for integers (log of factorials)', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(6)).toBeCloseTo(Math.log(120), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
  });

  it('reproduces a textbook example (statistic, df, p, Cramér V)', () => {
    // Agresti: party identification by gender — χ² = 30.07 (rounded), df = 2
    const r = chiSquareIndependence([
      [762, 327, 468],
      [484, 239, 477],
    ]);
    expect(r.statistic).toBeCloseTo(30.07, 1);
    expect(r.degreesOfFreedom).toBe(2);
    expect(r.pValue).toBeLessThan(1e-6);
    expect(r.cramersV).toBeCloseTo(Math.sqrt(r.statistic / 2757), 10);
  });

  it('gives statistic 0 and p = 1 for perfectly independent tables, V = 1 for perfect association', () => {
    const ind = chiSquareIndependence([[10, 20], [20, 40]]);
    expect(ind.statistic).toBeCloseTo(0, 10);
    expect(ind.pValue).toBeCloseTo(1, 10);
    const dep = chiSquareIndependence([[30, 0], [0, 30]]);
    expect(dep.cramersV).toBeCloseTo(1, 10);
  });

  it('drops empty rows and columns, and degenerates safely', () => {
    const r = chiSquareIndependence([[10, 0, 5], [0, 0, 0], [4, 0, 9]]);
    expect(r.degreesOfFreedom).toBe(1);
    expect(chiSquareIndependence([[5, 5]])).toMatchObject({ degreesOfFreedom: 0, pValue: 1 });
    expect(chiSquareIndependence([])).toMatchObject({ n: 0, pValue: 1 });
  });
});
