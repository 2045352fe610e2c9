import {
  answerText,
  answerUnknown,
  assessmentBody,
  changesSince,
  choose,
  keyAction,
  missingQuestions,
  toggleMulti,
  type Question,
  type Questionnaire,
} from './answers';

const single: Question = {
  key: 'education',
  label: 'Utbildning',
  type: 'single',
  options: [
    { code: 'none', label: 'Ingen' },
    { code: 'compulsory', label: 'Grundskola' },
    { code: 'upper_secondary', label: 'Gymnasium' },
    { code: 'unknown', label: 'Vet ej' },
  ],
};
const multi: Question = {
  key: 'workObstacles',
  label: 'Hinder',
  type: 'multi',
  options: [
    { code: 'none', label: 'Inga' },
    { code: 'physical_health', label: 'Fysisk hälsa' },
    { code: 'mental_health', label: 'Psykisk hälsa' },
    { code: 'unknown', label: 'Vet ej' },
  ],
};
const questionnaire: Questionnaire = { version: 1, questions: [single, multi] };

describe('assessment keys', () => {
  it('chooses the numbered option, skipping "Vet ej" in the numbering', () => {
    expect(keyAction({ key: '1' }, single)).toEqual({ kind: 'choose', code: 'none' });
    expect(keyAction({ key: '3' }, single)).toEqual({ kind: 'choose', code: 'upper_secondary' });
    expect(keyAction({ key: '4' }, single)).toBeNull();
  });

  it('answers "Vet ej" with one key, 0 or v', () => {
    for (const key of ['0', 'v', 'V']) expect(keyAction({ key }, single)).toEqual({ kind: 'unknown' });
  });

  it('moves on with Enter, back with Shift+Enter, saves with Ctrl/⌘+Enter anywhere', () => {
    expect(keyAction({ key: 'Enter' }, single)).toEqual({ kind: 'next' });
    expect(keyAction({ key: 'Enter', shiftKey: true }, single)).toEqual({ kind: 'previous' });
    expect(keyAction({ key: 'Enter', ctrlKey: true }, null)).toEqual({ kind: 'save' });
    expect(keyAction({ key: 'Enter', metaKey: true }, single)).toEqual({ kind: 'save' });
  });

  it('leaves other keys and modified digits to the browser', () => {
    for (const key of ['Tab', 'ArrowDown', ' ', 'a']) expect(keyAction({ key }, single)).toBeNull();
    expect(keyAction({ key: '1', altKey: true }, single)).toBeNull();
    expect(keyAction({ key: '1' }, null)).toBeNull();
  });
});

describe('answers', () => {
  it('keeps "Vet ej" and "none" alone in a multi answer', () => {
    expect(toggleMulti([], 'physical_health')).toEqual(['physical_health']);
    expect(toggleMulti(['physical_health'], 'mental_health')).toEqual(['physical_health', 'mental_health']);
    expect(toggleMulti(['physical_health', 'mental_health'], 'physical_health')).toEqual(['mental_health']);
    expect(toggleMulti(['physical_health'], 'unknown')).toEqual(['unknown']);
    expect(toggleMulti(['unknown'], 'none')).toEqual(['none']);
    expect(toggleMulti(['none'], 'mental_health')).toEqual(['mental_health']);
    expect(toggleMulti(['unknown'], 'unknown')).toEqual([]);
  });

  it('answers "Vet ej" in the shape of the question', () => {
    expect(answerUnknown({}, single)).toEqual({ education: 'unknown' });
    expect(answerUnknown({ workObstacles: ['none'] }, multi)).toEqual({ workObstacles: ['unknown'] });
  });

  it('lists what is still unanswered, and builds the body in questionnaire order', () => {
    expect(missingQuestions(questionnaire, {}).map((q) => q.key)).toEqual(['education', 'workObstacles']);
    let a = choose({}, multi, 'mental_health');
    expect(missingQuestions(questionnaire, a).map((q) => q.key)).toEqual(['education']);
    a = choose(a, multi, 'mental_health');
    expect(missingQuestions(questionnaire, a).map((q) => q.key)).toEqual(['education', 'workObstacles']);
    a = choose(choose(a, single, 'compulsory'), multi, 'none');
    expect(missingQuestions(questionnaire, a)).toEqual([]);
    expect(assessmentBody('r1', questionnaire, { ...a, stray: 'x' })).toEqual({ roundId: 'r1', answers: { education: 'compulsory', workObstacles: ['none'] } });
  });

  it('shows answers with their labels', () => {
    expect(answerText(multi, ['physical_health', 'mental_health'])).toBe('Fysisk hälsa, Psykisk hälsa');
    expect(answerText(single, 'unknown')).toBe('Vet ej');
    expect(answerText(single, undefined)).toBe('–');
  });

  it('finds the events recorded after the version the user saw', () => {
    const h = [1, 2, 3, 4].map((version) => ({ version, type: 'X' }));
    expect(changesSince(h, 2).map((e) => e.version)).toEqual([3, 4]);
    expect(changesSince(h, 4)).toEqual([]);
  });
});
