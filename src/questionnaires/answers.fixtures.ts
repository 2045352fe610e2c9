import { type Answers, type Questionnaire, QUESTIONNAIRE_V1 } from './questionnaire.js';

/** For specs: every question answered "Vet ej". */
export function allUnknown(questionnaire: Questionnaire = QUESTIONNAIRE_V1): Answers {
  return Object.fromEntries(questionnaire.questions.map((q) => [q.key, q.type === 'multi' ? ['unknown'] : 'unknown']));
}
