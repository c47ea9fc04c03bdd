import { describe, expect, it } from 'vitest';
import { emptyEvidence, type HeldResult } from './evidence.js';
import {
  CONFIRM_AFTER_CALLBACK_MS,
  checkAfterCallback,
  DEFAULT_POLL_MODEL,
  inReview,
  needsCheck,
  nextCheck,
  RECHECK_DEMOTED_CLAIM_MS,
} from './poll-schedule.js';

const HOUR = 3600_000;
const HORIZON = 168 * HOUR;
const MODEL = DEFAULT_POLL_MODEL;
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
  const delayAt = (job: typeof pending, age: number) => {
    const next = nextCheck(job, created, at(age), MODEL);
    if (!('at' in next)) throw new Error('expected a next check');
    return next.at.getTime() - at(age).getTime();
  };
  const statusSaid = (final: boolean): HeldResult => ({
    facet: {
      slot: 'result',
      final,
      smileJobId: null,
      state: final ? 'approved' : 'provisional',
      resultCode: final ? '1210' : '0814',
      resultText: null,
      actions: {},
    },
    rank: { final, authority: 'job_status', at: 0, hash: 'h' },
    receivedAt: at(5000).getTime(),
  });
  const reviewed = { ...pending, evidence: { ...emptyEvidence(), status: statusSaid(false) } };

  it('checks a silent job within seconds first: its callbacks may have been lost', () => {
    const delay = delayAt(pending, 0);
    expect(delay).toBeGreaterThanOrEqual(MODEL.silentFirstMs);
    expect(delay).toBeLessThanOrEqual(MODEL.silentFirstMs * 1.1);
  });

  it('backs off a silent job with intervals that double with its age, never shrink, and stop growing at the cap', () => {
    const ages = [0, 10_000, 20_000, 40_000, 5 * 60_000, 30 * 60_000, 3 * HOUR, 24 * HOUR, 100 * HOUR];
    const delays = ages.map((age) => delayAt(pending, age));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delayAt(pending, 5 * 60_000)).toBeGreaterThanOrEqual(5 * 60_000);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(MODEL.maxIntervalMs);
    expect(delays.at(-1)).toBeLessThanOrEqual(MODEL.maxIntervalMs * 1.1);
  });

  it('checks a job that job_status says is in review only as a fallback, from reviewFirstMs, growing', () => {
    expect(inReview(reviewed.evidence)).toBe(true);
    expect(delayAt(reviewed, 5000)).toBeGreaterThanOrEqual(MODEL.reviewFirstMs);
    const delays = [5000, HOUR, 3 * HOUR, 48 * HOUR].map((age) => delayAt(reviewed, age));
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays.at(-1)).toBeLessThanOrEqual(MODEL.maxIntervalMs * 1.1);
  });

  it('does not slow down for a callback that merely claims review', () => {
    const claimed = {
      ...pending,
      evidence: {
        ...emptyEvidence(),
        claims: {
          provisional: {
            ...statusSaid(false),
            rank: { ...statusSaid(false).rank, authority: 'callback' as const },
          },
        },
      },
    };
    expect(inReview(claimed.evidence)).toBe(false);
    expect(delayAt(claimed, 5000)).toBe(delayAt({ ...pending, evidence: claimed.evidence }, 5000));
    expect(delayAt(claimed, 5000)).toBeLessThan(MODEL.silentFirstMs * 1.1);
  });

  it('takes its times from the model, so tests and benchmarks can compress them', () => {
    const compressed = { ...MODEL, silentFirstMs: 500, reviewFirstMs: 2000, maxIntervalMs: 4000 };
    const next = nextCheck(reviewed, created, at(1000), compressed);
    expect('at' in next && next.at.getTime() - at(1000).getTime()).toBeLessThanOrEqual(2200);
    const late = nextCheck(pending, created, at(HOUR), compressed);
    expect('at' in late && late.at.getTime() - at(HOUR).getTime()).toBeLessThanOrEqual(4400);
  });

  it('keeps polling through days of human review until the horizon, then gives up visibly', () => {
    expect('at' in nextCheck(pending, created, at(HORIZON - HOUR), MODEL)).toBe(true);
    expect(nextCheck(pending, created, at(HORIZON), MODEL)).toEqual({ stale: true });
  });

  it('never schedules a check past the horizon', () => {
    const next = nextCheck(pending, created, at(HORIZON - 1000), MODEL);
    expect('at' in next && next.at.getTime()).toBeLessThanOrEqual(at(HORIZON).getTime());
  });

  it('does not poll a job that only untrusted bodies know of', () => {
    expect(nextCheck({ ...pending, tracked: false }, created, at(1000), MODEL)).toEqual({ done: true });
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
    const next = nextCheck(demoted, created, at(10 * HOUR + 2000), MODEL);
    expect(next).toEqual({ at: new Date(at(10 * HOUR + 2000).getTime() + RECHECK_DEMOTED_CLAIM_MS) });
  });

  it('stops for a job that is final and confirmed', () => {
    expect(nextCheck({ ...pending, isFinal: true, confirmed: true }, created, at(1000), MODEL)).toEqual({
      done: true,
    });
  });

  it('spreads jobs created together by their ids, the same way every time', () => {
    const delay = (jobId: string) => {
      const next = nextCheck({ ...pending, jobId }, created, at(20 * 60_000), MODEL);
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
