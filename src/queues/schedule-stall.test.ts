import { describe, expect, it } from 'vitest';
import { MIN_STALL_MS, redeclareStalled, sinceRunMs, stallAfterMs } from './schedule-stall.js';

describe('how long a schedule may go without completing a run', () => {
  it('is three of its intervals for a schedule that runs seldom', () => {
    expect(stallAfterMs(10 * 60_000)).toBe(30 * 60_000);
  });

  it('is at least a minute, so that one slow run of a frequent sweep is not a stall', () => {
    expect(stallAfterMs(500)).toBe(MIN_STALL_MS);
    expect(stallAfterMs(500, 5_000)).toBe(5_000);
  });
});

describe('the time since a schedule last ran', () => {
  it('counts from its last completed run', () => {
    expect(sinceRunMs({ lastRunAt: 1_000, startedAt: 500, now: 4_000 })).toBe(3_000);
  });

  it('counts from the worker’s start when it has not run since, or ran before the worker started', () => {
    expect(sinceRunMs({ lastRunAt: undefined, startedAt: 2_000, now: 4_000 })).toBe(2_000);
    expect(sinceRunMs({ lastRunAt: 1_000, startedAt: 2_000, now: 4_000 })).toBe(2_000);
  });
});

describe('declaring a schedule that exists but is stalled again', () => {
  const now = 1_000_000;

  it('happens once it has gone past its stall limit, when it was never declared again', () => {
    expect(redeclareStalled({ sinceRun: 60_001, stallAfter: 60_000, redeclaredAt: undefined, now })).toBe(
      true,
    );
  });

  it('does not happen while it is within its limit', () => {
    expect(redeclareStalled({ sinceRun: 60_000, stallAfter: 60_000, redeclaredAt: undefined, now })).toBe(
      false,
    );
  });

  it('happens at most once per stall: not again until another stall limit has passed', () => {
    const stalled = { sinceRun: 200_000, stallAfter: 60_000, now };
    expect(redeclareStalled({ ...stalled, redeclaredAt: now - 30_000 })).toBe(false);
    expect(redeclareStalled({ ...stalled, redeclaredAt: now - 60_001 })).toBe(true);
  });
});
