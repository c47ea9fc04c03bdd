import { describe, expect, it } from 'vitest';
import { checkPriority } from './catalog.js';

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
