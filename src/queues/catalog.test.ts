import { describe, expect, it } from 'vitest';
import { catalog, checkPriority } from './catalog.js';

describe('checkPriority', () => {
  it('runs a confirmation of a fresh callback before every blind poll', () => {
    // BullMQ runs jobs without a priority before any job with one.
    expect(checkPriority({ confirms: true, overdue: 0 })).toBeUndefined();
    expect(checkPriority({ confirms: false, overdue: 1e9 })).toBeGreaterThanOrEqual(2);
  });

  it('runs blind polls by how late they are against their own interval, the latest first', () => {
    const priorities = [0, 0.5, 1, 4, 100].map((overdue) => checkPriority({ confirms: false, overdue })!);
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    expect(new Set(priorities).size).toBe(priorities.length);
    // A check scheduled in the future (negative lateness) is not ranked above an on-time one.
    expect(checkPriority({ confirms: false, overdue: -1 })).toBe(
      checkPriority({ confirms: false, overdue: 0 }),
    );
  });
});

describe('the job id rules', () => {
  it('give each kind of job about one partner job an id of its own, the same in every process and release', () => {
    // Pinned: a job queued before a deploy must still keep its twin queued after it from running too.
    const hash = 'd1e888ce6b7290a879f2ff1e24dffac802513280';
    expect(catalog.checkStatus.jobId({ jobId: 'job:1', queuedAt: 5 }, {})).toBe(`check-${hash}`);
    expect(catalog.checkStatus.jobId({ jobId: 'job:1' }, { confirms: true })).toBe(`confirm-${hash}`);
    expect(catalog.checkUntrusted.jobId({ jobId: 'job:1' }, {})).toBe(`untrusted-${hash}`);
    expect(catalog.submitJob.jobId({ jobId: 'job:1' }, {})).toBe(`submit-${hash}`);
    expect(catalog.deliverNotification.jobId({ deliveryId: '42' }, {})).toBe('notify-42');
  });
});
