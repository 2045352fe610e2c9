import { DomainError } from '../shared/domain/domain-error.js';
import { allUnknown } from './answers.fixtures.js';
import { QUESTIONNAIRE_V1 } from './questionnaire.js';
import { applyCorrection, parseAnswers, validateAnswers } from './validate-answers.js';

const paths = (answers: unknown, mode: 'full' | 'partial' = 'full') => validateAnswers(QUESTIONNAIRE_V1, answers, mode).map((e) => e.path).sort();

describe('validateAnswers (full: an assessment)', () => {
  it('accepts every question answered, unknown included', () => {
    expect(validateAnswers(QUESTIONNAIRE_V1, allUnknown(), 'full')).toEqual([]);
    const answers = { ...allUnknown(), education: 'compulsory', workObstacles: ['mental_health', 'language'], currentActivity: ['none'] };
    expect(validateAnswers(QUESTIONNAIRE_V1, answers, 'full')).toEqual([]);
  });

  it('reports every missing, unknown-keyed and invalid answer at once, each at its path', () => {
    const { mentalHealth: _m, education: _e, ...rest } = allUnknown();
    const errors = validateAnswers(QUESTIONNAIRE_V1, { ...rest, substanceAbuse: 'sometimes', shoeSize: '42' }, 'full');
    expect(errors.map((e) => e.path).sort()).toEqual(['answers.education', 'answers.mentalHealth', 'answers.shoeSize', 'answers.substanceAbuse']);
    expect(errors.find((e) => e.path === 'answers.mentalHealth')!.message).toMatch(/must be answered/);
    expect(errors.find((e) => e.path === 'answers.substanceAbuse')!.message).toMatch(/"sometimes" is not an option/);
    expect(errors.find((e) => e.path === 'answers.shoeSize')!.message).toMatch(/not a question of questionnaire version 1/);
  });

  it('rejects a body that is not an object', () => {
    for (const bad of [null, 'unknown', ['unknown'], 3]) expect(paths(bad)).toEqual(['answers']);
  });

  it('takes one code for a single question and an array for a multi question', () => {
    expect(paths({ ...allUnknown(), education: ['compulsory'] })).toEqual(['answers.education']);
    expect(paths({ ...allUnknown(), workObstacles: 'language' })).toEqual(['answers.workObstacles']);
    expect(paths({ ...allUnknown(), workObstacles: [] })).toEqual(['answers.workObstacles']);
    expect(paths({ ...allUnknown(), workObstacles: [1] })).toEqual(['answers.workObstacles']);
    expect(paths({ ...allUnknown(), education: null })).toEqual(['answers.education']);
  });

  it('keeps unknown and none alone in a multi question', () => {
    expect(paths({ ...allUnknown(), workObstacles: ['unknown', 'language'] })).toEqual(['answers.workObstacles']);
    expect(paths({ ...allUnknown(), otherBenefits: ['none', 'sickness_benefit'] })).toEqual(['answers.otherBenefits']);
    expect(paths({ ...allUnknown(), otherSupport: ['none', 'unknown'] })).toEqual(['answers.otherSupport']);
    const [error] = validateAnswers(QUESTIONNAIRE_V1, { ...allUnknown(), workObstacles: ['language', 'unknown'] }, 'full');
    expect(error!.message).toBe('"unknown" must stand alone');
  });

  it('rejects a repeated or invalid code in a multi question', () => {
    expect(paths({ ...allUnknown(), workObstacles: ['language', 'language'] })).toEqual(['answers.workObstacles']);
    expect(paths({ ...allUnknown(), workObstacles: ['language', 'gambling'] })).toEqual(['answers.workObstacles']);
  });

  it('does not take an option of another question', () => {
    expect(paths({ ...allUnknown(), mentalHealth: 'active' })).toEqual(['answers.mentalHealth']);
  });

  it('ignores inherited keys and does not accept __proto__ tricks as answers', () => {
    const answers = JSON.parse(`{"__proto__": {"education": "compulsory"}}`) as unknown;
    expect(paths(answers)).toContain('answers.education');
    expect(paths(answers)).toContain('answers.__proto__');
  });
});

describe('validateAnswers (partial: a correction)', () => {
  it('accepts some questions', () => {
    expect(validateAnswers(QUESTIONNAIRE_V1, { mentalHealth: 'severe_problems' }, 'partial')).toEqual([]);
  });
  it('still validates what is given and rejects unknown keys', () => {
    expect(paths({ mentalHealth: 'bad', workObstacles: ['none', 'language'], foo: 'x' }, 'partial')).toEqual(['answers.foo', 'answers.mentalHealth', 'answers.workObstacles']);
  });
  it('needs at least one answer', () => {
    expect(validateAnswers(QUESTIONNAIRE_V1, {}, 'partial')).toEqual([{ path: 'answers', message: 'must correct at least one answer' }]);
  });
});

describe('parseAnswers', () => {
  it('returns canonical answers: questionnaire order, multi codes in option order', () => {
    const answers = { ...allUnknown(), workObstacles: ['language', 'mental_health'], education: 'compulsory' };
    const parsed = parseAnswers(QUESTIONNAIRE_V1, answers, 'full');
    expect(Object.keys(parsed)).toEqual(QUESTIONNAIRE_V1.questions.map((q) => q.key));
    expect(parsed.workObstacles).toEqual(['mental_health', 'language']);
    expect(parsed.education).toBe('compulsory');
  });
  it('throws one validation error with every field', () => {
    try {
      parseAnswers(QUESTIONNAIRE_V1, { education: 'x' }, 'full');
      throw new Error('expected a rejection');
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).kind).toBe('validation');
      expect((e as DomainError).errors).toHaveLength(QUESTIONNAIRE_V1.questions.length);
    }
  });
});

describe('applyCorrection', () => {
  it('replaces the corrected answers and keeps the rest', () => {
    const original = allUnknown();
    const corrected = applyCorrection(original, { mentalHealth: 'some_problems' });
    expect(corrected).toEqual({ ...original, mentalHealth: 'some_problems' });
    expect(original.mentalHealth).toBe('unknown');
  });
});
