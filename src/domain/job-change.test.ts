import { describe, expect, it } from 'vitest';
import { postponedCheck } from './job-change.js';
import { emptyOutcome } from './outcome.js';
import { DEFAULT_POLL_MODEL } from './poll-schedule.js';

const HOUR = 3600_000;
const created = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(created.getTime() + ms);
const job = (tracked = true, staleAt: Date | null = null) => ({
  outcome: { ...emptyOutcome('job-1'), tracked },
  createdAt: created,
  nextCheckAt: null,
  staleAt,
  untrustedCheckAt: null,
});
const horizon = DEFAULT_POLL_MODEL.horizonMs;

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
});
