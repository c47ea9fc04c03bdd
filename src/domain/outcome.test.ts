import { describe, expect, it } from 'vitest';
import { emptyOutcome } from './outcome.js';

describe('emptyOutcome', () => {
  it('describes a pending, unconfirmed job that knows nothing but its id', () => {
    expect(emptyOutcome('job-1')).toEqual({
      jobId: 'job-1',
      userId: null,
      jobType: null,
      smileJobId: null,
      smileJobIds: [],
      state: 'pending',
      isFinal: false,
      confirmed: false,
      resultCode: null,
      resultText: null,
      actions: null,
      idInfo: null,
      idNumberPreviouslyRegistered: null,
      previousRegistrantUserIds: [],
      suspectUsers: [],
      smileSecureCode: null,
      ranks: {},
      evidence: { claims: {}, statusFetches: [] },
      identity: null,
      identityAt: null,
      identityConflictAt: null,
      untrustedAt: null,
      tracked: false,
      needsConfirmation: false,
      finalizedAt: null,
    });
  });

  it('returns fresh arrays and objects each time, so one job cannot leak into another', () => {
    const first = emptyOutcome('job-1');
    first.smileJobIds.push('x');
    first.ranks.idInfo = { final: true, authority: 'callback', at: 0, hash: 'h' };
    first.evidence.statusFetches.push(1);
    expect(emptyOutcome('job-2').smileJobIds).toEqual([]);
    expect(emptyOutcome('job-2').ranks).toEqual({});
    expect(emptyOutcome('job-2').evidence.statusFetches).toEqual([]);
  });
});
