import { describe, expect, it } from 'vitest';
import { loggedLines } from '../../../test/helpers/logs.js';
import { ObjectStoreUnavailableError } from './object-store.js';
import { createPutFailures } from './put-failures.js';

function failures() {
  const { logger, lines } = loggedLines('info');
  let clock = 0;
  const put = createPutFailures({
    log: logger,
    where: 's3://photos/',
    now: () => clock,
    pauseMs: 5000,
  });
  return { put, lines, advance: (ms: number) => (clock += ms) };
}

const refused = () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });

describe("the vault's memory of failed puts", () => {
  it('keeps the store out of the way for the pause after a failure, and asks it again after', () => {
    const { put, advance } = failures();
    expect(put.paused).toBe(false);
    put.failed(new ObjectStoreUnavailableError('object store put failed: connect ECONNREFUSED'));
    expect(put.paused).toBe(true);
    advance(4999);
    expect(put.paused).toBe(true);
    advance(1);
    expect(put.paused).toBe(false);
  });

  it('leaves a store that cannot be reached to its outage reporter: it says nothing of it', () => {
    const { put, lines } = failures();
    put.failed(new ObjectStoreUnavailableError('object store put failed: timed out'));
    put.succeeded();
    expect(lines).toEqual([]);
  });

  it('says once that the store refuses photos, with why, and once that it takes them again', () => {
    const { put, lines, advance } = failures();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      put.failed(refused());
      advance(5000);
    }
    put.succeeded();
    put.succeeded();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        objectStore: 's3://photos/',
        error: { name: 'AccessDenied', message: 'Access Denied' },
        msg: expect.stringMatching(/^object store cannot take photos: bodies are kept whole in Postgres/),
      }),
      expect.objectContaining({ level: 30, msg: 'object store takes photos again' }),
    ]);
  });
});
