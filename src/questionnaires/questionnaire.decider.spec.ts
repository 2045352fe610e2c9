import { deciderSpec, fieldPaths } from '../shared/testing/decider-spec.js';
import { type Question, QUESTIONNAIRE_V1 } from './questionnaire.js';
import { currentQuestionnaire, initialQuestionnairesState, parseQuestions, questionnaireDecider, questionnaireVersion } from './questionnaire.decider.js';
import type { QuestionnairePublished } from './questionnaire.events.js';

const spec = deciderSpec(questionnaireDecider);
const ctx = { actor: 'po-1', today: '2026-08-01' };

const questions: Question[] = [
  { key: 'housing', label: 'Boende', type: 'single', options: [{ code: 'own', label: 'Eget' }, { code: 'unknown', label: 'Vet ej' }] },
  { key: 'networks', label: 'Nätverk', type: 'multi', options: [{ code: 'none', label: 'Inget' }, { code: 'family', label: 'Familj' }, { code: 'unknown', label: 'Vet ej' }] },
];
const published = (version: number, qs: Question[] = questions): QuestionnairePublished => ({
  type: 'QuestionnairePublished',
  schemaVersion: 1,
  data: { version, questions: qs },
  metadata: { actor: 'po-1', effectiveDate: '2026-08-01' },
});

describe('questionnaire version 1 (API.md "Reference data")', () => {
  const expected: Record<string, [string, string[]]> = {
    education: ['single', ['none', 'compulsory', 'upper_secondary', 'post_secondary']],
    previousWork: ['single', ['never', 'under_1_year', '1_to_5_years', 'over_5_years']],
    workObstacles: ['multi', ['none', 'physical_health', 'mental_health', 'substance_abuse', 'language', 'childcare', 'housing', 'other']],
    physicalHealth: ['single', ['no_problems', 'some_problems', 'severe_problems']],
    mentalHealth: ['single', ['no_problems', 'some_problems', 'severe_problems']],
    substanceAbuse: ['single', ['never', 'previous', 'active']],
    sickCertificate: ['single', ['yes', 'no']],
    sicknessBenefitApplication: ['single', ['not_applied', 'pending', 'granted', 'rejected']],
    currentActivity: ['multi', ['none', 'studies', 'municipal_programme', 'employment_service_programme', 'rehabilitation', 'part_time_work', 'other']],
    registeredWithEmploymentService: ['single', ['registered', 'deregistered_last_12_months', 'never_registered']],
    otherBenefits: ['multi', ['none', 'sickness_benefit', 'activity_support', 'housing_allowance', 'maintenance_support', 'other']],
    otherSupport: ['multi', ['none', 'social_services', 'healthcare', 'psychiatry', 'addiction_care', 'other']],
    languageSupportNeeded: ['single', ['yes', 'no']],
    distanceToLabourMarket: ['single', ['close', 'medium', 'far']],
  };

  it('has exactly the questions, types and options of the contract, each with unknown = "Vet ej"', () => {
    expect(QUESTIONNAIRE_V1.version).toBe(1);
    expect(QUESTIONNAIRE_V1.questions.map((q) => q.key)).toEqual(Object.keys(expected));
    for (const q of QUESTIONNAIRE_V1.questions) {
      expect([q.type, q.options.map((o) => o.code)]).toEqual([expected[q.key]![0], [...expected[q.key]![1], 'unknown']]);
      expect(q.options.find((o) => o.code === 'unknown')!.label).toBe('Vet ej');
      expect(q.label.trim()).not.toBe('');
      for (const o of q.options) expect(o.label.trim()).not.toBe('');
    }
  });

  it('passes the structural rules that published versions must pass', () => {
    expect(parseQuestions(QUESTIONNAIRE_V1.questions)).toEqual(QUESTIONNAIRE_V1.questions);
  });

  it('is every municipality\'s current version until one publishes another', () => {
    expect(currentQuestionnaire(initialQuestionnairesState)).toBe(QUESTIONNAIRE_V1);
  });
});

describe('publishing a questionnaire version', () => {
  it('publishes version 2 first (1 is built in), then 3', () => {
    spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions }).then([published(2)]);
    spec.given([published(2)]).when({ type: 'PublishQuestionnaire', ...ctx, questions }).then([published(3)]);
  });

  it('keeps every version readable', () => {
    const state = [published(2), published(3, [questions[0]!])].reduce(questionnaireDecider.evolve, questionnaireDecider.initialState);
    expect(currentQuestionnaire(state).version).toBe(3);
    expect(questionnaireVersion(state, 1)).toBe(QUESTIONNAIRE_V1);
    expect(questionnaireVersion(state, 2)!.questions).toEqual(questions);
    expect(questionnaireVersion(state, 4)).toBeUndefined();
  });

  it('rejects a question without "unknown"', () => {
    const noUnknown = [{ ...questions[0]!, options: [{ code: 'own', label: 'Eget' }, { code: 'rented', label: 'Hyrt' }] }];
    const error = spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions: noUnknown }).thenThrows('validation');
    expect(error.errors).toEqual([{ path: 'questions[0].options', message: 'must include the option "unknown" (Vet ej)' }]);
  });

  it('rejects duplicate keys and duplicate codes', () => {
    const dup = [questions[0]!, { ...questions[1]!, key: 'housing', options: [...questions[1]!.options, { code: 'family', label: 'Släkt' }] }];
    const error = spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions: dup }).thenThrows('validation');
    expect(fieldPaths(error)).toEqual(['questions[1].key', 'questions[1].options[3].code']);
  });

  it('rejects a type other than single|multi, reserved or malformed keys, bad codes, empty labels, extra properties', () => {
    const bad = [
      { ...questions[0]!, type: 'text' },
      { ...questions[0]!, key: 'gender' },
      { ...questions[0]!, key: 'Bad-Key' },
      { ...questions[0]!, key: 'q4', label: ' ', options: [{ code: 'Own It', label: 'x' }, { code: 'unknown', label: '' }] },
      { ...questions[0]!, key: 'q5', hint: 'extra' },
      'not a question',
    ];
    const error = spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions: bad }).thenThrows('validation');
    expect(fieldPaths(error)).toEqual([
      'questions[0].type',
      'questions[1].key',
      'questions[2].key',
      'questions[3].label',
      'questions[3].options[0].code',
      'questions[3].options[1].label',
      'questions[4].hint',
      'questions[5]',
    ]);
  });

  it('rejects an empty questionnaire and a question with too few options', () => {
    spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions: [] }).thenThrows('validation');
    const one = [{ ...questions[0]!, options: [{ code: 'unknown', label: 'Vet ej' }] }];
    expect(fieldPaths(spec.given([]).when({ type: 'PublishQuestionnaire', ...ctx, questions: one }).thenThrows('validation'))).toEqual(['questions[0].options']);
  });
});
