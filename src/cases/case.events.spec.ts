import { CASE_EVENT_TYPES, asCaseEvents } from './case.events.js';

describe('case event types', () => {
  it('are the stable names of API.md', () => {
    expect(CASE_EVENT_TYPES).toEqual([
      'CaseRegistered',
      'AssessmentRecorded',
      'AssessmentCorrected',
      'PrioritySet',
      'CaseTransferred',
      'InterventionStarted',
      'InterventionEnded',
      'BenefitMonthRecorded',
      'BenefitMonthWithdrawn',
      'CaseClosed',
      'CaseReopened',
    ]);
  });

  it('asCaseEvents lets stored case events through and refuses anything else', () => {
    const stored = { type: 'BenefitMonthRecorded', schemaVersion: 1, data: { month: '2026-01' }, metadata: { actor: 'a', effectiveDate: '2026-01-01' }, position: 7 };
    expect(asCaseEvents([stored])).toEqual([stored]);
    expect(() => asCaseEvents([{ ...stored, type: 'RoundOpened' }])).toThrow(/Not a case event/);
    expect(() => asCaseEvents([{ ...stored, schemaVersion: 2 }])).toThrow(/Not a case event/);
    const undated = { ...stored, metadata: { actor: 'a' } };
    expect(() => asCaseEvents([undated])).toThrow(/Not a case event/);
  });
});
