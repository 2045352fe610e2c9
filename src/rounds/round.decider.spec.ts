import { deciderSpec } from '../shared/testing/decider-spec.js';
import { findRound, roundDecider } from './round.decider.js';
import type { RoundClosed, RoundOpened } from './round.events.js';

const spec = deciderSpec(roundDecider);
const ctx = { actor: 'po-1', today: '2026-03-02' };

const opened = (roundId = 'r1', label = '2026-H1', referenceDate = '2026-03-01', questionnaireVersion = 1): RoundOpened => ({
  type: 'RoundOpened',
  schemaVersion: 1,
  data: { roundId, label, referenceDate, questionnaireVersion },
  metadata: { actor: 'po-1', effectiveDate: '2026-03-02' },
});
const closed = (roundId = 'r1', effectiveDate = '2026-03-02'): RoundClosed => ({
  type: 'RoundClosed',
  schemaVersion: 1,
  data: { roundId },
  metadata: { actor: 'po-1', effectiveDate },
});
const open = (over: Partial<{ roundId: string; label: string; referenceDate: string; questionnaireVersion: number; availableQuestionnaireVersions: number[] }> = {}) => ({
  type: 'OpenRound' as const,
  ...ctx,
  roundId: 'r1',
  label: '2026-H1',
  referenceDate: '2026-03-01',
  questionnaireVersion: 1,
  availableQuestionnaireVersions: [1],
  ...over,
});

describe('opening a round', () => {
  it('opens a round with its label, reference date and questionnaire version', () => {
    spec.given([]).when(open()).then([opened()]);
  });

  it('trims the label', () => {
    spec.given([]).when(open({ label: '  2026-H1 ' })).then([opened()]);
  });

  it('keeps labels unique per municipality, case-insensitively, and names the existing round', () => {
    const error = spec.given([opened()]).when(open({ roundId: 'r2', label: '2026-h1' })).thenThrows('conflict', 'round-label-taken');
    expect(error.details).toEqual({ roundId: 'r1' });
  });

  it('opens a second round with another label, also while the first is open', () => {
    spec.given([opened()]).when(open({ roundId: 'r2', label: '2026-H2', referenceDate: '2026-09-01' })).then([opened('r2', '2026-H2', '2026-09-01')]);
  });

  it('rejects a reused round id', () => {
    spec.given([opened()]).when(open({ label: '2026-H2' })).thenThrows('conflict', 'round-exists');
  });

  it('rejects a questionnaire version the municipality does not have, an empty label and a bad date, all at once', () => {
    const error = spec.given([]).when(open({ label: ' ', referenceDate: '2026-02-30', questionnaireVersion: 2 })).thenThrows('validation');
    expect(error.errors.map((e) => e.path)).toEqual(['label', 'referenceDate', 'questionnaireVersion']);
  });

  it('uses a published version when the municipality has it', () => {
    spec.given([]).when(open({ questionnaireVersion: 2, availableQuestionnaireVersions: [1, 2] })).then([opened('r1', '2026-H1', '2026-03-01', 2)]);
  });
});

describe('closing a round', () => {
  it('closes an open round once', () => {
    spec.given([opened()]).when({ type: 'CloseRound', ...ctx, roundId: 'r1' }).then([closed()]);
  });

  it('rejects closing a closed round', () => {
    spec.given([opened(), closed()]).when({ type: 'CloseRound', ...ctx, roundId: 'r1' }).thenThrows('conflict', 'round-already-closed');
  });

  it('rejects closing an unknown round', () => {
    spec.given([opened()]).when({ type: 'CloseRound', ...ctx, roundId: 'nope' }).thenThrows('not_found', 'round-not-found');
  });

  it('rejects closing before the reference date (the snapshot would freeze a forecast)', () => {
    spec.given([opened('r1', '2026-H1', '2026-03-10')]).when({ type: 'CloseRound', ...ctx, roundId: 'r1' }).thenThrows('conflict', 'round-reference-date-not-reached');
    spec.given([opened('r1', '2026-H1', '2026-03-10')]).when({ type: 'CloseRound', ...ctx, today: '2026-03-10', roundId: 'r1' }).then([closed('r1', '2026-03-10')]);
  });

  it('keeps a closed round with its closing date in the state', () => {
    const state = [opened(), opened('r2', '2026-H2'), closed()].reduce(roundDecider.evolve, roundDecider.initialState);
    expect(findRound(state, 'r1')).toMatchObject({ status: 'closed', closedOn: '2026-03-02', label: '2026-H1' });
    expect(findRound(state, 'r2')).toMatchObject({ status: 'open' });
    expect(findRound(state, 'toString')).toBeUndefined();
  });
});
