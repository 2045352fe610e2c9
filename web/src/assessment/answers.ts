/**
 * The assessment form's rules, apart from React: what a key press means, how a multi-choice
 * answer changes, what is still missing. Tested in answers.spec.ts.
 */

export interface QuestionOption {
  code: string;
  label: string;
}
export interface Question {
  key: string;
  label: string;
  type: 'single' | 'multi';
  options: QuestionOption[];
}
export interface Questionnaire {
  version: number;
  questions: Question[];
}
export type AnswerValue = string | string[];
export type Answers = Record<string, AnswerValue>;

export const UNKNOWN = 'unknown';
export const NONE = 'none';

/** The options a digit selects: every option but "Vet ej", which has its own keys. */
export function numberedOptions(q: Question): QuestionOption[] {
  return q.options.filter((o) => o.code !== UNKNOWN);
}

/** Keys that answer "Vet ej" for the question in focus. */
export const UNKNOWN_KEYS = ['0', 'v', 'V'];

export type KeyAction =
  | { kind: 'choose'; code: string }
  | { kind: 'unknown' }
  | { kind: 'next' }
  | { kind: 'previous' }
  | { kind: 'save' };

/**
 * What a key press does inside a question: 1–9 choose (or toggle) the option with that number,
 * 0 or v answer "Vet ej", Enter goes on to the next question, Ctrl/⌘+Enter saves. Everything
 * else keeps the browser's own behaviour (arrows within radios, Space on checkboxes, Tab).
 */
export function keyAction(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean; shiftKey?: boolean }, q: Question | null): KeyAction | null {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) return { kind: 'save' };
  if (e.ctrlKey || e.metaKey || e.altKey || !q) return null;
  if (e.key === 'Enter') return e.shiftKey ? { kind: 'previous' } : { kind: 'next' };
  if (UNKNOWN_KEYS.includes(e.key)) return { kind: 'unknown' };
  if (/^[1-9]$/.test(e.key)) {
    const option = numberedOptions(q)[Number(e.key) - 1];
    return option ? { kind: 'choose', code: option.code } : null;
  }
  return null;
}

/** "Vet ej" and "none" stand alone in a multi answer (API.md); any other option replaces them. */
export function toggleMulti(current: readonly string[] | undefined, code: string): string[] {
  const list = current ?? [];
  if (code === UNKNOWN || code === NONE) return list.length === 1 && list[0] === code ? [] : [code];
  const rest = list.filter((c) => c !== UNKNOWN && c !== NONE);
  return rest.includes(code) ? rest.filter((c) => c !== code) : [...rest, code];
}

export function choose(answers: Answers, q: Question, code: string): Answers {
  if (q.type === 'single') return { ...answers, [q.key]: code };
  return { ...answers, [q.key]: toggleMulti(answers[q.key] as string[] | undefined, code) };
}

export function answerUnknown(answers: Answers, q: Question): Answers {
  return { ...answers, [q.key]: q.type === 'single' ? UNKNOWN : [UNKNOWN] };
}

export function isAnswered(q: Question, value: AnswerValue | undefined): boolean {
  return q.type === 'single' ? typeof value === 'string' && value !== '' : Array.isArray(value) && value.length > 0;
}

export function missingQuestions(questionnaire: Questionnaire, answers: Answers): Question[] {
  return questionnaire.questions.filter((q) => !isAnswered(q, answers[q.key]));
}

/** The body of POST …/assessments: only the round's questions, in its order. */
export function assessmentBody(roundId: string, questionnaire: Questionnaire, answers: Answers): { roundId: string; answers: Answers } {
  const out: Answers = {};
  for (const q of questionnaire.questions) if (answers[q.key] !== undefined) out[q.key] = answers[q.key]!;
  return { roundId, answers: out };
}

/** Readable text of an answer, with the questionnaire's labels. */
export function answerText(q: Question, value: AnswerValue | undefined): string {
  if (value === undefined) return '–';
  const codes = Array.isArray(value) ? value : [value];
  return codes.map((c) => q.options.find((o) => o.code === c)?.label ?? c).join(', ');
}

export interface HistoryEntry {
  position?: string | number;
  version: number;
  type: string;
  effectiveDate?: string;
  recordedAt?: string;
  actor?: string | { userId?: string; name?: string } | null;
  data?: Record<string, unknown>;
}

/** Events recorded after the version the user saw: what "someone else changed" means on a 412. */
export function changesSince(history: readonly HistoryEntry[], seenVersion: number): HistoryEntry[] {
  return history.filter((e) => e.version > seenVersion);
}
