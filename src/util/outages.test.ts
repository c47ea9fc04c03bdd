import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loggedLines } from '../../test/helpers/logs.js';
import { createOutageReporter } from './outages.js';

/** A connection as ioredis's look to the reporter: a status, `error` and `ready` events. */
class FakeConnection extends EventEmitter {
  status = 'connecting';
  fail(error: Error) {
    this.status = 'reconnecting';
    this.emit('error', error);
  }
  ready() {
    this.status = 'ready';
    this.emit('ready');
  }
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });

const LOOK_INTERVAL_MS = 1000;

/**
 * A reporter on a fake clock: `advance` moves the time its `now` reads and fires its looks on the way,
 * as the real timers would.
 */
function reporter() {
  const { logger, lines } = loggedLines('info');
  const outages = createOutageReporter({
    log: logger,
    dependency: { name: 'Redis', address: '127.0.0.1:6390', variable: 'REDIS_URL', remedy: 'start it' },
    now: () => Date.now(),
    lookIntervalMs: LOOK_INTERVAL_MS,
  });
  return { outages, lines, advance: (ms: number) => vi.advanceTimersByTime(ms) };
}

describe('the outage reporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says an outage once however many connections, queues and workers report it, and its end once', () => {
    const { outages, lines, advance } = reporter();
    const [first, second] = [new FakeConnection(), new FakeConnection()];
    outages.watch(first);
    outages.watch(second);
    const queueErrors = outages.listener('queue error', { queue: 'status-checks' });
    const workerErrors = outages.listener('worker error', { queue: 'status-checks' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      first.fail(refused());
      second.fail(refused());
      queueErrors(refused());
      workerErrors(refused());
    }
    expect(lines).toHaveLength(1);
    expect(outages.down).toBe(true);

    advance(12_000);
    first.ready();
    advance(LOOK_INTERVAL_MS * 3);
    // Not back while one of its connections is still away.
    expect(lines).toHaveLength(1);
    second.ready();
    advance(LOOK_INTERVAL_MS);
    expect(lines).toHaveLength(2);
    expect(outages.down).toBe(false);
    // Dated from when every connection was ready, not from when that had held long enough to be said.
    expect(lines[1]).toMatchObject({
      level: 30,
      msg: 'Redis at 127.0.0.1:6390 is reachable again after 15 s',
      downSeconds: 15,
      errors: 400,
    });
  });

  it('says plainly which dependency, where, from which variable and what to try, without a stack trace', () => {
    const { outages, lines } = reporter();
    outages.watch(new FakeConnection()).fail(refused());
    expect(lines[0]).toEqual(
      expect.objectContaining({
        level: 50,
        dependency: 'redis',
        address: '127.0.0.1:6390',
        variable: 'REDIS_URL',
        reason: 'connect ECONNREFUSED 127.0.0.1:6390',
        msg: 'Redis at 127.0.0.1:6390 is unreachable (connect ECONNREFUSED 127.0.0.1:6390); start it',
      }),
    );
    expect(JSON.stringify(lines)).not.toContain('stack');
  });

  it('logs every error that is not about reaching the dependency, with its stack, outage or not', () => {
    const { outages, lines } = reporter();
    const connection = outages.watch(new FakeConnection());
    const workerErrors = outages.listener('worker error', { queue: 'submissions' });
    workerErrors(new Error('Missing lock for job submit-1'));
    connection.fail(refused());
    workerErrors(new Error('Missing lock for job submit-2'));
    expect(lines.map((line) => line.msg)).toEqual([
      'worker error',
      expect.stringContaining('is unreachable'),
      'worker error',
    ]);
    expect(lines[2]).toMatchObject({
      queue: 'submissions',
      err: { stack: expect.stringContaining('Missing lock') },
    });
  });

  it('takes in an error that says the dependency cannot be reached and leaves any other to its caller', () => {
    const { outages, lines } = reporter();
    outages.watch(new FakeConnection());
    const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(outages.reportIfUnreachable(wrongType)).toBe(false);
    expect(lines).toHaveLength(0);
    expect(outages.reportIfUnreachable(refused())).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ level: 50, reason: refused().message })]);
  });

  it('waits a look before saying an outage that one socket noticed first, and dates it from that error', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    connection.ready();
    // A worker's own connection notices first, while the watched one still looks ready.
    outages.listener('worker error')(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(lines).toHaveLength(0);
    advance(LOOK_INTERVAL_MS / 2);
    connection.fail(refused());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, reason: 'write EPIPE' });
    advance(4500);
    connection.ready();
    advance(LOOK_INTERVAL_MS);
    expect(lines[1]).toMatchObject({ level: 30, downSeconds: 5, errors: 2 });
  });

  it('says as one warning a connection that failed while Redis stayed reachable', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    connection.ready();
    outages.listener('worker error')(refused());
    outages.listener('queue error')(refused());
    advance(LOOK_INTERVAL_MS * 5);
    expect(outages.down).toBe(false);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        errors: 2,
        msg: 'a connection to Redis at 127.0.0.1:6390 failed (connect ECONNREFUSED 127.0.0.1:6390); Redis is reachable',
      }),
    ]);
  });

  it('says a recovery once every connection has stayed ready for a whole look interval, and only once', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    connection.fail(refused());
    advance(LOOK_INTERVAL_MS * 2.5);
    connection.ready();
    advance(LOOK_INTERVAL_MS - 1);
    expect(lines.map((line) => line.level)).toEqual([50]);
    expect(outages.down).toBe(true);
    advance(1);
    expect(lines.map((line) => line.level)).toEqual([50, 30]);
    expect(outages.down).toBe(false);
    advance(LOOK_INTERVAL_MS * 10);
    expect(lines.map((line) => line.level)).toEqual([50, 30]);
  });

  it('counts an error within the look interval after every connection is ready into the same outage', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    const workerErrors = outages.listener('worker error', { queue: 'status-checks' });
    connection.fail(refused());
    advance(3000);
    connection.ready();
    advance(LOOK_INTERVAL_MS / 2);
    // A worker's blocking connection, which the reporter does not watch, is still reconnecting.
    workerErrors(refused());
    advance(LOOK_INTERVAL_MS / 2);
    expect(lines.map((line) => line.level)).toEqual([50]);
    expect(outages.down).toBe(true);
    // The watched connection fails again and comes back, within the interval too: down until then, 4.5 s.
    advance(LOOK_INTERVAL_MS / 4);
    connection.fail(refused());
    advance(LOOK_INTERVAL_MS / 4);
    connection.ready();
    advance(LOOK_INTERVAL_MS * 5);
    expect(lines.map((line) => line.msg)).toEqual([
      expect.stringContaining('is unreachable'),
      'Redis at 127.0.0.1:6390 is reachable again after 5 s',
    ]);
    expect(lines[1]).toMatchObject({ errors: 3 });
  });

  it('does not say a recovery that a connection left again before the look, even without an error', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    connection.fail(refused());
    connection.ready();
    advance(LOOK_INTERVAL_MS / 2);
    connection.status = 'reconnecting';
    advance(LOOK_INTERVAL_MS * 3);
    expect(lines).toHaveLength(1);
    connection.ready();
    advance(LOOK_INTERVAL_MS);
    expect(lines.map((line) => line.level)).toEqual([50, 30]);
  });

  it('says a new outage after the last one ended', () => {
    const { outages, lines, advance } = reporter();
    const connection = outages.watch(new FakeConnection());
    connection.fail(refused());
    connection.ready();
    advance(LOOK_INTERVAL_MS);
    connection.fail(refused());
    connection.fail(refused());
    expect(lines.map((line) => line.level)).toEqual([50, 30, 50]);
  });
});

describe('the outage reporter of a dependency reached by calls', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const timedOut = () => new Error('object store put failed: connect ECONNREFUSED 127.0.0.1:9000');

  it('says an outage at the first unanswered call, and its end once answered calls have held a look', () => {
    const { outages, lines, advance } = reporter();
    for (let call = 0; call < 50; call += 1) outages.unanswered(timedOut());
    expect(outages.down).toBe(true);
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, reason: timedOut().message, variable: 'REDIS_URL' }),
    ]);
    advance(7000);
    outages.answered();
    outages.answered();
    expect(lines).toHaveLength(1);
    advance(LOOK_INTERVAL_MS);
    expect(outages.down).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 30, downSeconds: 7, errors: 50 });
    advance(LOOK_INTERVAL_MS * 5);
    expect(lines).toHaveLength(2);
  });

  it('continues the same outage when a call goes unanswered before an answered one has held a look', () => {
    const { outages, lines, advance } = reporter();
    outages.unanswered(timedOut());
    outages.answered();
    advance(LOOK_INTERVAL_MS / 2);
    outages.unanswered(timedOut());
    advance(LOOK_INTERVAL_MS * 3);
    expect(lines.map((line) => line.level)).toEqual([50]);
    expect(outages.down).toBe(true);
    outages.answered();
    advance(LOOK_INTERVAL_MS);
    expect(lines.map((line) => line.level)).toEqual([50, 30]);
  });

  it('says nothing of calls answered while there is no outage', () => {
    const { outages, lines, advance } = reporter();
    outages.answered();
    outages.answered();
    advance(LOOK_INTERVAL_MS * 2);
    expect(lines).toEqual([]);
    expect(outages.down).toBe(false);
  });

  it('says a new outage after the last one ended', () => {
    const { outages, lines, advance } = reporter();
    outages.unanswered(timedOut());
    outages.answered();
    advance(LOOK_INTERVAL_MS);
    outages.unanswered(timedOut());
    outages.unanswered(timedOut());
    expect(lines.map((line) => line.level)).toEqual([50, 30, 50]);
    expect(outages.down).toBe(true);
  });
});
