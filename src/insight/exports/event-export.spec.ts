import type { StoredEvent } from '../../shared/event-store/event-store.port.js';
import { exportEvent } from './event-export.js';

const stored = (type: string, data: Record<string, unknown>, stream = 'case-2281-c1'): StoredEvent => ({
  id: 'e1',
  stream,
  tenant: '2281',
  version: 3,
  position: 42,
  type,
  schemaVersion: 1,
  data,
  metadata: { actor: 'anna-handlaggare', effectiveDate: '2026-04-03', correlationId: 'req-1' },
  recordedAt: new Date('2026-04-03T08:00:00.000Z'),
});
const staff = (id: string) => `staff-of-${id.length}`;

describe('exportEvent', () => {
  it('keeps the facts, adds the pseudonym, drops free text and names caseworkers only by staff pseudonym', () => {
    const e = exportEvent(stored('AssessmentCorrected', { roundId: 'r1', answers: { mentalHealth: 'no_problems' }, reasonCiphertext: 'v1.abc', correctedBy: 'anna-handlaggare' }), 'ps-1', staff);
    expect(e).toEqual({
      position: 42,
      municipality: '2281',
      stream: 'case-2281-c1',
      pseudonym: 'ps-1',
      type: 'AssessmentCorrected',
      schemaVersion: 1,
      effectiveDate: '2026-04-03',
      recordedAt: '2026-04-03T08:00:00.000Z',
      data: { roundId: 'r1', answers: { mentalHealth: 'no_problems' }, correctedBy: 'staff-of-16' },
    });
    // Metadata (actor, correlation id) is not part of the line at all.
    expect(JSON.stringify(e)).not.toMatch(/anna|req-1|v1\.abc/);
  });

  it('takes the pseudonym from the registration itself, and drops the hash of an erasure reason', () => {
    expect(exportEvent(stored('CaseRegistered', { caseId: 'c1', pseudonym: 'ps-9', birthYear: 1980 }), null, staff).pseudonym).toBe('ps-9');
    const erased = exportEvent(stored('PersonErased', { pseudonym: 'ps-9', caseIds: ['c1'], basis: 'request', reasonHash: 'ab12' }, 'erasures-2281'), null, staff);
    expect(erased).toMatchObject({ pseudonym: 'ps-9', data: { pseudonym: 'ps-9', caseIds: ['c1'], basis: 'request' } });
    expect(erased.data).not.toHaveProperty('reasonHash');
    expect(exportEvent(stored('RoundOpened', { roundId: 'r1', label: '2026-H1' }, 'rounds-2281'), null, staff).pseudonym).toBeNull();
  });
});
