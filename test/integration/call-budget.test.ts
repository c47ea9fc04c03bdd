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

  it('never lets more than its budget start within any one second, even across a second boundary', async () => {
    const budgets = [first, second].map((redis) =>
      createCallBudget({ redis, prefix: `${prefix}-sliding`, perSecond: 5 }),
    );
    const started: number[] = [];
    const call = (index: number) => budgets[index % 2]!.acquire().then(() => started.push(Date.now()));
    // One call, then a burst late in that second: a fixed one-second window would let the burst's second
    // half through the moment the window turns, nine calls within a tenth of a second.
    await call(0);
    await new Promise((resolve) => setTimeout(resolve, 900));
    await Promise.all(Array.from({ length: 10 }, (_, index) => call(index)));

    expect(started).toHaveLength(11);
    started.sort((a, b) => a - b);
    const tightestSecond = Math.min(...started.slice(5).map((at, index) => at - started[index]!));
    // Each call's time is read after Redis stamped it, so allow for a loaded machine's scheduling; a
    // fixed window would give about 100 ms.
    expect(tightestSecond).toBeGreaterThanOrEqual(800);
  });

  it('lets a call through when Redis cannot be asked', async () => {
    const down = { eval: async () => Promise.reject(new Error('Connection is closed.')) };
    const budget = createCallBudget({ redis: down, prefix, perSecond: 1 });
    await expect(Promise.all([budget.acquire(), budget.acquire(), budget.acquire()])).resolves.toHaveLength(
      3,
    );
  });
});
