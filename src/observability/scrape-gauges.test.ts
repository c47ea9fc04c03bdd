import { describe, expect, it } from 'vitest';
import type { JobGaugeRow, SubmissionGaugeRow } from '../store/jobs/job-gauges.js';
import { flagTotals, oldestPendingSeconds } from './scrape-gauges.js';

const jobs = (row: Partial<JobGaugeRow>): JobGaugeRow => ({
  state: 'pending',
  isFinal: false,
  jobs: 1,
  unconfirmed: 0,
  untrusted: 0,
  stale: 0,
  previouslyRegistered: 0,
  fraudSuspects: 0,
  ...row,
});

describe('the jobs carrying each flag', () => {
  it('adds each flag up over every state, under its metric label', () => {
    const totals = flagTotals([
      jobs({ state: 'pending', unconfirmed: 3, stale: 1 }),
      jobs({ state: 'approved', isFinal: true, unconfirmed: 2, previouslyRegistered: 4, fraudSuspects: 1 }),
    ]);
    expect(totals).toEqual({
      unconfirmed: 5,
      untrusted: 0,
      stale: 1,
      previously_registered_id: 4,
      fraud_suspects: 1,
    });
  });

  it('gives every flag 0 when there are no jobs, so each series exists', () => {
    expect(Object.values(flagTotals([]))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('the age of the oldest pending submission', () => {
  const row = (status: SubmissionGaugeRow['status'], oldestSeconds: number): SubmissionGaugeRow => ({
    status,
    submissions: 1,
    oldestSeconds,
  });

  it('is the oldest of those queued or uploading, whatever those done or failed say', () => {
    expect(
      oldestPendingSeconds([
        row('queued', 12),
        row('uploading', 40),
        row('uploaded', 900),
        row('failed', 600),
      ]),
    ).toBe(40);
  });

  it('is 0 when none is pending', () => {
    expect(oldestPendingSeconds([row('uploaded', 900)])).toBe(0);
    expect(oldestPendingSeconds([])).toBe(0);
  });
});
