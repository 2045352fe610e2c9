import type { DomainEvent } from '../shared/domain/decider.js';
import type { Question } from './questionnaire.js';

/**
 * A municipality published a new questionnaire version. Version 1 is built in and never
 * published; the first published version of a municipality is 2. Stream: one per municipality
 * (the handler names it, e.g. `questionnaires-<kommunkod>`).
 */
export type QuestionnairePublished = DomainEvent<'QuestionnairePublished', { version: number; questions: Question[] }> & { schemaVersion: 1 };

export type QuestionnaireEvent = QuestionnairePublished;
