import { QUESTIONNAIRE_V1 } from '../questionnaires/questionnaire.js';
import { initialQuestionnairesState, questionnaireDecider } from '../questionnaires/questionnaire.decider.js';
import { fold } from '../shared/domain/decider.js';
import { findRound, roundDecider } from '../rounds/round.decider.js';
import { roundInfo } from './round-info.js';

describe('roundInfo', () => {
  const ctx = { actor: 'po-1', today: '2026-03-02' };
  const questionnaires = fold(
    questionnaireDecider,
    questionnaireDecider.decide({ type: 'PublishQuestionnaire', ...ctx, questions: [QUESTIONNAIRE_V1.questions[0]] }, initialQuestionnairesState),
  );
  const open = (roundId: string, label: string, questionnaireVersion: number) =>
    roundDecider.decide({ type: 'OpenRound', ...ctx, roundId, label, referenceDate: '2026-03-01', questionnaireVersion, availableQuestionnaireVersions: [1, 2] }, roundDecider.initialState);
  const rounds = fold(roundDecider, [...open('r1', '2026-H1', 1), ...open('r2', '2026-H1b', 2)]);

  it('joins a round with its questionnaire version', () => {
    expect(roundInfo(findRound(rounds, 'r1'), questionnaires)).toEqual({ roundId: 'r1', status: 'open', referenceDate: '2026-03-01', questionnaire: QUESTIONNAIRE_V1 });
    expect(roundInfo(findRound(rounds, 'r2'), questionnaires)!.questionnaire.version).toBe(2);
  });

  it('is undefined for an unknown round, and refuses a round whose version is missing (a bug)', () => {
    expect(roundInfo(findRound(rounds, 'r9'), questionnaires)).toBeUndefined();
    expect(() => roundInfo(findRound(rounds, 'r2'), initialQuestionnairesState)).toThrow(/does not exist/);
  });
});
