import { describe, expect, it } from 'vitest';
import { emptyEvidence, type HeldResult } from './evidence.js';
import {
  CONFIRM_AFTER_CALLBACK_MS,
  checkAfterCallback,
  needsCheck,
  nextCheck,
  POLL_PHASES,
  RECHECK_DEMOTED_CLAIM_MS,
} from './poll-schedule.js';

const HOUR = 3600_000;
const HORIZON = 168 * HOUR;
const created = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(created.getTime() + ms);
const pending = {
  jobId: 'job-1',
  isFinal: false,
  confirmed: false,
  tracked: true,
  evidence: emptyEvidence(),
};

describe('needsCheck', () => {
  it('is false only for a final job confirmed by job_status', () => {
    expect(needsCheck({ isFinal: true, confirmed: true })).toBe(false);
    expect(needsCheck({ isFinal: true, confirmed: false })).toBe(true);
    expect(needsCheck({ isFinal: false, confirmed: true })).toBe(true);
    expect(needsCheck({ isFinal: false, confirmed: false })).toBe(true);
  });
});

describe('nextCheck', () => {
  it('polls every few seconds in the first minute, like the SDKs do', () => {
    const next = nextCheck(pending, created, at(10_000), HORIZON);
    expect('at' in next && next.at.getTime() - at(10_000).getTime()).toBeGreaterThanOrEqual(3000);
    expect('at' in next && next.at.getTime() - at(10_000).getTime()).toBeLessThanOrEqual(3300);
  });

  it('slows down as the job ages, with intervals that never shrink', () => {
    const ages = [0, 30_000, 5 * 60_000, 30 * 60_000, 3 * HOUR, 24 * HOUR, 100 * HOUR];
    const delays = ages.map((age) => {
      const next = nextCheck(pending, created, at(age), HORIZON);
      if (!('at' in next)) throw new Error('expected a next check');
      return next.at.getTime() - at(age).getTime();
    });
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays.at(-1)).toBeGreaterThanOrEqual(POLL_PHASES.at(-1)!.intervalMs);
  });

  it('keeps polling through days of human review until the horizon, then gives up visibly', () => {
    expect('at' in nextCheck(pending, created, at(HORIZON - HOUR), HORIZON)).toBe(true);
    expect(nextCheck(pending, created, at(HORIZON), HORIZON)).toEqual({ stale: true });
  });

  it('never schedules a check past the horizon', () => {
    const next = nextCheck(pending, created, at(HORIZON - 1000), HORIZON);
    expect('at' in next && next.at.getTime()).toBeLessThanOrEqual(at(HORIZON).getTime());
  });

  it('does not poll a job that only untrusted bodies know of', () => {
    expect(nextCheck({ ...pending, tracked: false }, created, at(1000), HORIZON)).toEqual({ done: true });
  });

  it('looks again within seconds after job_status first disagreed with a final callback', () => {
    const claim: HeldResult = {
      facet: {
        slot: 'result',
        final: true,
        smileJobId: null,
        state: 'approved',
        resultCode: '1210',
        resultText: null,
        actions: {},
      },
      rank: { final: true, authority: 'callback', at: 0, hash: 'h' },
      receivedAt: at(10 * HOUR).getTime(),
    };
    const demoted = {
      ...pending,
      evidence: { claims: { final: claim }, statusFetches: [at(10 * HOUR + 2000).getTime()] },
    };
    const next = nextCheck(demoted, created, at(10 * HOUR + 2000), HORIZON);
    expect(next).toEqual({ at: new Date(at(10 * HOUR + 2000).getTime() + RECHECK_DEMOTED_CLAIM_MS) });
  });

  it('stops for a job that is final and confirmed', () => {
    expect(nextCheck({ ...pending, isFinal: true, confirmed: true }, created, at(1000), HORIZON)).toEqual({
      done: true,
    });
  });

  it('spreads jobs created together by their ids, the same way every time', () => {
    const delay = (jobId: string) => {
      const next = nextCheck({ ...pending, jobId }, created, at(20 * 60_000), HORIZON);
      return 'at' in next ? next.at.getTime() : 0;
    };
    expect(delay('job-a')).toBe(delay('job-a'));
    expect(new Set(['a', 'b', 'c', 'd', 'e'].map((id) => delay(`job-${id}`))).size).toBeGreaterThan(1);
  });
});

describe('checkAfterCallback', () => {
  const now = at(HOUR);
  it('confirms a job that a callback just made final within seconds', () => {
    const later = new Date(now.getTime() + HOUR);
    expect(checkAfterCallback({ isFinal: true, confirmed: false }, later, now)).toEqual(
      new Date(now.getTime() + CONFIRM_AFTER_CALLBACK_MS),
    );
  });

  it('keeps an earlier check that was already due', () => {
    const sooner = new Date(now.getTime() + 500);
    expect(checkAfterCallback({ isFinal: false, confirmed: false }, sooner, now)).toEqual(sooner);
  });

  it('leaves a confirmed final job alone', () => {
    expect(checkAfterCallback({ isFinal: true, confirmed: true }, null, now)).toBeNull();
  });
});
