import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCallBudget } from '../../src/queues/call-budget.js';

/** The Smile ID call budget on real Redis, shared by two connections as two processes would share it. */
describe('the Smile ID call budget', () => {
  const prefix = `test-budget-${randomBytes(4).toString('hex')}`;
  const first = new Redis(inject('redisUrl'));
  const second = new Redis(inject('redisUrl'));
  afterAll(() => {
    first.disconnect();
    second.disconnect();
  });

  it('lets through no more calls per second than its budget, across every process, and the rest later', async () => {
    const budgets = [first, second].map((redis) => createCallBudget({ redis, prefix, perSecond: 5 }));
    let passed = 0;
    const calls = Array.from({ length: 12 }, (_, index) =>
      budgets[index % 2]!.acquire().then(() => {
        passed += 1;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passed).toBe(5);
    await Promise.all(calls);
    expect(passed).toBe(12);
  });

  it('lets a call through when Redis cannot be asked', async () => {
    const down = { eval: async () => Promise.reject(new Error('Connection is closed.')) };
    const budget = createCallBudget({ redis: down, prefix, perSecond: 1 });
    await expect(Promise.all([budget.acquire(), budget.acquire(), budget.acquire()])).resolves.toHaveLength(
      3,
    );
  });
});
