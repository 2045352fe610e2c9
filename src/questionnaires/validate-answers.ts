import { DomainError, type FieldError } from '../shared/domain/domain-error.js';
import { type Answers, type Question, type Questionnaire, NONE, UNKNOWN } from './questionnaire.js';

/**
 * `full`: an assessment — every question of the questionnaire must be answered.
 * `partial`: a correction — some questions (at least one), each answered in full.
 */
export type AnswersMode = 'full' | 'partial';

/**
 * Checks answers against a questionnaire and returns EVERY problem, so a caseworker fixes a
 * form in one go. Paths are `answers.<key>` (the key of the question, or the unknown key).
 */
export function validateAnswers(questionnaire: Questionnaire, answers: unknown, mode: AnswersMode, path = 'answers'): FieldError[] {
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) {
    return [{ path, message: 'must be an object with one entry per question' }];
  }
  const given = answers as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key of Object.keys(given)) {
    if (!questionnaire.questions.some((q) => q.key === key)) {
      errors.push({ path: `${path}.${key}`, message: `is not a question of questionnaire version ${questionnaire.version}` });
    }
  }
  let answered = 0;
  for (const question of questionnaire.questions) {
    if (!Object.hasOwn(given, question.key) || given[question.key] === undefined) {
      if (mode === 'full') errors.push({ path: `${path}.${question.key}`, message: `must be answered (use "${UNKNOWN}" when not known)` });
      continue;
    }
    answered += 1;
    const message = checkAnswer(question, given[question.key]);
    if (message) errors.push({ path: `${path}.${question.key}`, message });
  }
  if (mode === 'partial' && answered === 0 && errors.length === 0) {
    errors.push({ path, message: 'must correct at least one answer' });
  }
  return errors;
}

function checkAnswer(question: Question, value: unknown): string | undefined {
  const codes = question.options.map((o) => o.code);
  const allowed = `one of ${codes.join(', ')}`;
  if (question.type === 'single') {
    if (typeof value !== 'string') return `must be a single option code (${allowed})`;
    return codes.includes(value) ? undefined : `"${value}" is not an option; must be ${allowed}`;
  }
  if (!Array.isArray(value) || value.length === 0) return `must be a non-empty array of option codes (${allowed})`;
  if (!value.every((v): v is string => typeof v === 'string')) return 'every element must be an option code';
  const invalid = value.filter((v) => !codes.includes(v));
  if (invalid.length > 0) return `${invalid.map((v) => `"${v}"`).join(', ')} ${invalid.length === 1 ? 'is not an option' : 'are not options'}; each must be ${allowed}`;
  if (new Set(value).size !== value.length) return 'must not repeat an option';
  for (const alone of [UNKNOWN, NONE]) {
    if (value.includes(alone) && value.length > 1) return `"${alone}" must stand alone`;
  }
  return undefined;
}

/**
 * Validates and returns the answers in canonical form: questions in questionnaire order and a
 * multi answer's codes in option order, so equal answers are stored equal whatever order the
 * client sent. Throws a validation DomainError listing every problem.
 */
export function parseAnswers(questionnaire: Questionnaire, answers: unknown, mode: AnswersMode, path = 'answers'): Answers {
  const errors = validateAnswers(questionnaire, answers, mode, path);
  if (errors.length > 0) throw DomainError.validation(errors);
  const given = answers as Answers;
  const result: Answers = {};
  for (const question of questionnaire.questions) {
    const value = given[question.key];
    if (value === undefined) continue;
    result[question.key] = Array.isArray(value) ? question.options.map((o) => o.code).filter((c) => value.includes(c)) : value;
  }
  return result;
}

/** The answers after a correction: corrected keys replace the earlier answers, the rest stay. */
export function applyCorrection(answers: Answers, correction: Answers): Answers {
  return { ...answers, ...correction };
}
