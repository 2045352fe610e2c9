import type { CommandContext, Decider } from '../shared/domain/decider.js';
import { DomainError, type FieldError, throwIfInvalid } from '../shared/domain/domain-error.js';
import { type Question, type Questionnaire, QUESTIONNAIRE_V1, RESERVED_QUESTION_KEYS, UNKNOWN } from './questionnaire.js';
import type { QuestionnaireEvent } from './questionnaire.events.js';

/**
 * The questionnaire versions of one municipality. State holds every version (built-in version 1
 * first), so `GET …/questionnaires/current` and `…/{version}` read straight from it.
 */
export interface QuestionnairesState {
  versions: Questionnaire[];
}

export interface PublishQuestionnaire extends CommandContext {
  type: 'PublishQuestionnaire';
  /** As received (validated here: the structure is a domain rule, not only a DTO shape). */
  questions: unknown;
}

export type QuestionnaireCommand = PublishQuestionnaire;

export const initialQuestionnairesState: QuestionnairesState = { versions: [QUESTIONNAIRE_V1] };

export function currentQuestionnaire(state: QuestionnairesState): Questionnaire {
  return state.versions[state.versions.length - 1]!;
}

export function questionnaireVersion(state: QuestionnairesState, version: number): Questionnaire | undefined {
  return state.versions.find((q) => q.version === version);
}

export const questionnaireDecider: Decider<QuestionnaireCommand, QuestionnaireEvent, QuestionnairesState> = {
  initialState: initialQuestionnairesState,

  decide(command, state) {
    const questions = parseQuestions(command.questions);
    return [
      {
        type: 'QuestionnairePublished',
        schemaVersion: 1,
        data: { version: currentQuestionnaire(state).version + 1, questions },
        metadata: { actor: command.actor, effectiveDate: command.today },
      },
    ];
  },

  evolve(state, event) {
    switch (event.type) {
      case 'QuestionnairePublished':
        return { versions: [...state.versions, { version: event.data.version, questions: event.data.questions }] };
    }
  },
};

// camelCase keys: they become export column names and crosstab parameters.
const KEY = /^[a-z][a-zA-Z0-9]{0,63}$/;
// snake_case codes, as in version 1 (`1_to_5_years` starts with a digit).
const CODE = /^[a-z0-9][a-z0-9_]{0,63}$/;

/** Validates a questionnaire's structure, reporting every problem with its path. */
export function parseQuestions(input: unknown): Question[] {
  const errors: FieldError[] = [];
  if (!Array.isArray(input) || input.length === 0) {
    throw DomainError.validation([{ path: 'questions', message: 'must be a non-empty array of questions' }]);
  }
  const questions = input as unknown[];
  const keys = new Set<string>();
  const result: Question[] = [];
  questions.forEach((raw, i) => {
    const at = `questions[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ path: at, message: 'must be an object { key, label, type, options }' });
      return;
    }
    const q = raw as Record<string, unknown>;
    for (const extra of Object.keys(q).filter((k) => !['key', 'label', 'type', 'options'].includes(k))) {
      errors.push({ path: `${at}.${extra}`, message: 'is not a property of a question' });
    }
    if (typeof q.key !== 'string' || !KEY.test(q.key)) {
      errors.push({ path: `${at}.key`, message: 'must be a camelCase key (letters and digits, starting with a lower-case letter)' });
    } else if (RESERVED_QUESTION_KEYS.includes(q.key)) {
      errors.push({ path: `${at}.key`, message: `"${q.key}" is reserved (a background or export column)` });
    } else if (keys.has(q.key)) {
      errors.push({ path: `${at}.key`, message: `"${q.key}" is used by another question` });
    } else {
      keys.add(q.key);
    }
    if (!isLabel(q.label)) errors.push({ path: `${at}.label`, message: 'must be a non-empty text (at most 500 characters)' });
    if (q.type !== 'single' && q.type !== 'multi') errors.push({ path: `${at}.type`, message: 'must be "single" or "multi"' });
    const options: Question['options'] = [];
    if (!Array.isArray(q.options) || q.options.length < 2) {
      errors.push({ path: `${at}.options`, message: `must be an array of at least two options, one of them "${UNKNOWN}"` });
    } else {
      const codes = new Set<string>();
      (q.options as unknown[]).forEach((rawOption, j) => {
        const oat = `${at}.options[${j}]`;
        const o = (typeof rawOption === 'object' && rawOption !== null ? rawOption : {}) as Record<string, unknown>;
        for (const extra of Object.keys(o).filter((k) => k !== 'code' && k !== 'label')) {
          errors.push({ path: `${oat}.${extra}`, message: 'is not a property of an option' });
        }
        if (typeof o.code !== 'string' || !CODE.test(o.code)) {
          errors.push({ path: `${oat}.code`, message: 'must be a snake_case code' });
        } else if (codes.has(o.code)) {
          errors.push({ path: `${oat}.code`, message: `"${o.code}" is used by another option of this question` });
        } else {
          codes.add(o.code);
        }
        if (!isLabel(o.label)) errors.push({ path: `${oat}.label`, message: 'must be a non-empty text (at most 500 characters)' });
        options.push({ code: String(o.code), label: String(o.label) });
      });
      if (!codes.has(UNKNOWN)) errors.push({ path: `${at}.options`, message: `must include the option "${UNKNOWN}" (Vet ej)` });
    }
    result.push({ key: String(q.key), label: String(q.label), type: q.type as Question['type'], options });
  });
  throwIfInvalid(errors);
  return result;
}

function isLabel(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= 500;
}
