import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCallBudget } from '../../src/queues/call-budget.js';
import { redisOutages } from '../../src/queues/redis.js';
import { capturingLogger } from '../helpers/logs.js';

/** The Smile ID call budget on real Redis, shared by two connections as two processes would share it. */
describe('the Smile ID call budget', () => {
  const prefix = `test-budget-${randomBytes(4).toString('hex')}`;
  const first = new Redis(inject('redisUrl'));
  const second = new Redis(inject('redisUrl'));
  afterAll(() => {
    first.disconnect();
    second.disconnect();
  });

  /** A budget as the service builds it, with the process's Redis outage reporter, logging into memory. */
  function budgetOn(redis: Pick<Redis, 'eval'>, options: { prefix: string; perSecond: number }) {
    const { logger, logs } = capturingLogger('info');
    const outages = redisOutages(inject('redisUrl'), logger);
    const budget = createCallBudget({ redis, ...options, outages, log: logger });
    const lines = () =>
      logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown> & { msg: string; level: number });
    return { budget, lines };
  }

  it('lets through no more calls per second than its budget, across every process, and the rest later', async () => {
    const budgets = [first, second].map((redis) => budgetOn(redis, { prefix, perSecond: 5 }).budget);
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
    const budgets = [first, second].map(
      (redis) => budgetOn(redis, { prefix: `${prefix}-sliding`, perSecond: 5 }).budget,
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

  it('lets a call through when Redis cannot be asked, and leaves saying so to the outage reporter', async () => {
    const down = { eval: async () => Promise.reject(new Error('Connection is closed.')) };
    const { budget, lines } = budgetOn(down, { prefix, perSecond: 1 });
    await expect(Promise.all([budget.acquire(), budget.acquire(), budget.acquire()])).resolves.toHaveLength(
      3,
    );
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 50,
        dependency: 'redis',
        msg: expect.stringMatching(/^Redis at \S+ is unreachable \(Connection is closed\.\)/),
      }),
    ]);
  });

  it('says any other failure of Redis as an error, once, and still lets the calls through', async () => {
    const wrongPrefix = `${prefix}-wrong-type`;
    // The budget's key taken by a value of another kind: every call to the script fails with WRONGTYPE.
    await first.set(`${wrongPrefix}:smile-api-budget`, 'not a sorted set');
    const { budget, lines } = budgetOn(first, { prefix: wrongPrefix, perSecond: 1 });
    await expect(Promise.all([budget.acquire(), budget.acquire(), budget.acquire()])).resolves.toHaveLength(
      3,
    );
    await budget.acquire();
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 50,
        key: `${wrongPrefix}:smile-api-budget`,
        msg: 'could not take a place in the Smile ID call budget; calls go ahead unbudgeted until this is fixed',
        err: expect.objectContaining({ message: expect.stringContaining('WRONGTYPE') }),
      }),
    ]);
    await first.del(`${wrongPrefix}:smile-api-budget`);
  });
});
