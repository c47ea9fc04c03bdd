import { describe, expect, it } from 'vitest';
import { initialDecision } from './decision/job-decision.js';
import type { PolicyInUse } from './decision/policy.js';
import type { HeldResult } from './evidence.js';
import { type JobView, postponedCheck as postponedCheckWithDecision } from './job-change.js';
import { emptyOutcome } from './outcome.js';
import { DEFAULT_POLL_MODEL } from './poll-schedule.js';

const HOUR = 3600_000;
const created = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(created.getTime() + ms);
const POLICY: PolicyInUse = {
  version: 'test@000000000001',
  policy: {
    name: 'test',
    rules: [{ id: 'stale', when: { stale: true }, decision: 'review', reasons: ['stale'] }],
    fallback: { decision: 'pending', reasons: ['no_rule_matched'] },
  },
};
const job = (tracked = true, staleAt: Date | null = null): JobView => ({
  outcome: { ...emptyOutcome('job-1'), tracked },
  createdAt: created,
  nextCheckAt: null,
  staleAt,
  untrustedCheckAt: null,
  idType: null,
  country: null,
  decision: initialDecision(POLICY, created),
});
const horizon = DEFAULT_POLL_MODEL.horizonMs;

/** The schedule of a postponed check; its decision is looked at on its own below. */
const postponedCheck = (
  ...args: Parameters<typeof postponedCheckWithDecision> extends [...infer A, unknown] ? A : never
) => {
  const { nextCheckAt, staleAt } = postponedCheckWithDecision(...args, POLICY);
  return { nextCheckAt, staleAt };
};

describe('postponedCheck', () => {
  it('tries again when asked, within the horizon', () => {
    expect(postponedCheck(job(), at(HOUR + 60_000), at(HOUR), DEFAULT_POLL_MODEL)).toEqual({
      nextCheckAt: at(HOUR + 60_000),
      staleAt: null,
    });
  });

  it('never schedules past the horizon: the last try is at it', () => {
    expect(postponedCheck(job(), at(horizon + HOUR), at(horizon - 60_000), DEFAULT_POLL_MODEL)).toEqual({
      nextCheckAt: at(horizon),
      staleAt: null,
    });
  });

  it('makes a job past the horizon stale, keeping when it first became so', () => {
    expect(postponedCheck(job(), at(horizon + HOUR), at(horizon), DEFAULT_POLL_MODEL)).toEqual({
      nextCheckAt: null,
      staleAt: at(horizon),
    });
    expect(
      postponedCheck(job(true, at(horizon)), at(horizon + 2 * HOUR), at(horizon + HOUR), DEFAULT_POLL_MODEL),
    ).toEqual({ nextCheckAt: null, staleAt: at(horizon) });
  });

  it('never makes a final, confirmed job stale, nor schedules it', () => {
    const settled = {
      ...job(),
      outcome: { ...emptyOutcome('job-1'), tracked: true, isFinal: true, confirmed: true },
    };
    expect(postponedCheck(settled, at(horizon + HOUR), at(horizon + 1), DEFAULT_POLL_MODEL)).toEqual({
      nextCheckAt: null,
      staleAt: null,
    });
  });

  it('schedules nothing for a job only untrusted bodies know', () => {
    expect(postponedCheck(job(false), at(HOUR), at(0), DEFAULT_POLL_MODEL)).toEqual({
      nextCheckAt: null,
      staleAt: null,
    });
  });

  it('decides again from the schedule: a job Smile ID confirmed in review that goes stale goes to a person', () => {
    const inReview: HeldResult = {
      facet: {
        slot: 'result',
        final: false,
        smileJobId: '1',
        state: 'provisional',
        resultCode: '0814',
        resultText: null,
        actions: {},
      },
      rank: { final: false, authority: 'job_status', at: 1, hash: 'h' },
      receivedAt: 1,
    };
    const reviewing: JobView = {
      ...job(),
      outcome: {
        ...emptyOutcome('job-1'),
        tracked: true,
        state: 'provisional',
        confirmed: true,
        resultCode: '0814',
        evidence: { claims: {}, statusFetches: [1], status: inReview },
      },
    };
    const stale = postponedCheckWithDecision(
      reviewing,
      at(horizon + HOUR),
      at(horizon),
      DEFAULT_POLL_MODEL,
      POLICY,
    );
    expect(stale.decision).toMatchObject({ value: 'review', rule: 'stale', decidedAt: at(horizon) });
    const within = postponedCheckWithDecision(reviewing, at(HOUR), at(0), DEFAULT_POLL_MODEL, POLICY);
    expect(within.decision).toMatchObject({ value: 'pending', rule: 'fallback' });
  });
});
