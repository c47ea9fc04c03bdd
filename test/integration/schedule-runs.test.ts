import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { redisOutages } from '../../src/queues/redis.js';
import { createScheduleRuns } from '../../src/queues/schedule-runs.js';
import { capturingLogger } from '../helpers/logs.js';

/** The record of each schedule's last run, on real Redis, when writing it fails. */
describe('the record of schedule runs', () => {
  const prefix = `test-runs-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(inject('redisUrl'));
  afterAll(async () => {
    await redis.del(`${prefix}:schedule-runs`);
    redis.disconnect();
  });

  function runsOn(connection: Pick<Redis, 'hset' | 'hgetall'>) {
    const { logger, logs } = capturingLogger('info');
    const outages = redisOutages(inject('redisUrl'), logger);
    const runs = createScheduleRuns({ redis: connection, prefix, outages, log: logger });
    const lines = () =>
      logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { runs, lines };
  }

  it('warns once that a run could not be written, and still remembers it itself', async () => {
    // The record's key taken by a value of another kind: every write fails with WRONGTYPE.
    await redis.set(`${prefix}:schedule-runs`, 'not a hash');
    const { runs, lines } = runsOn(redis);
    await runs.record('sweep-due-checks');
    await runs.record('sweep-due-checks');
    expect(runs.lastRun('sweep-due-checks')).toBeTypeOf('number');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        schedule: 'sweep-due-checks',
        msg: expect.stringMatching(/^could not record a schedule run in Redis/),
        err: expect.objectContaining({ message: expect.stringContaining('WRONGTYPE') }),
      }),
    ]);
  });

  it('leaves a run that could not be written because Redis is down to the outage reporter', async () => {
    const down = {
      hset: async () => Promise.reject(new Error('Connection is closed.')),
      hgetall: async () => Promise.reject(new Error('Connection is closed.')),
    } as unknown as Pick<Redis, 'hset' | 'hgetall'>;
    const { runs, lines } = runsOn(down);
    await runs.record('sweep-due-checks');
    await runs.record('sweep-due-checks');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 50,
        dependency: 'redis',
        msg: expect.stringMatching(/^Redis at \S+ is unreachable \(Connection is closed\.\)/),
      }),
    ]);
  });
});
