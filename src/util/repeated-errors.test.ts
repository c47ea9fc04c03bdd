import { describe, expect, it } from 'vitest';
import { loggedLines } from '../../test/helpers/logs.js';
import { createRepeatedErrorLog } from './repeated-errors.js';

function repeatedErrorLog() {
  const { logger, lines } = loggedLines('info');
  let clock = 0;
  const failed = createRepeatedErrorLog({
    log: logger,
    level: 'error',
    message: 'could not take a place in the budget',
    quietMs: 60_000,
    now: () => clock,
  });
  return { failed, lines, advance: (ms: number) => (clock += ms) };
}

const wrongType = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value');

describe('the log of an error that repeats', () => {
  it('logs each kind of error once per quiet interval, then again with how many went unlogged', () => {
    const { failed, lines, advance } = repeatedErrorLog();
    for (let call = 0; call < 5; call += 1) failed(wrongType());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: 'could not take a place in the budget',
      unloggedSinceLast: 0,
      err: { message: expect.stringContaining('WRONGTYPE'), stack: expect.any(String) },
    });
    advance(59_999);
    failed(wrongType());
    expect(lines).toHaveLength(1);
    advance(1);
    failed(wrongType());
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ unloggedSinceLast: 5 });
  });

  it('logs a different kind of error at once, however recently another was logged', () => {
    const { failed, lines } = repeatedErrorLog();
    failed(wrongType());
    failed(new Error('ERR user_script:1: Script attempted to access nonexistent global variable'));
    failed(wrongType(), { key: 'budget' });
    expect(lines.map((line) => (line.err as { message: string }).message)).toEqual([
      expect.stringContaining('WRONGTYPE'),
      expect.stringContaining('ERR user_script'),
    ]);
  });
});
