import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorsOf } from '../../src/api/cursor.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { expectErrorBody } from '../helpers/http.js';

/**
 * Cursors are tagged under keys derived from DATA_ENCRYPTION_KEYS: a deployment whose keys rotate keeps
 * accepting the cursors its consumers hold, a cursor of one listing is refused by another, and one
 * whose key is gone is refused.
 */
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const [newer, older, unknown] = [key('newer'), key('older'), key('unknown')];

describe('page cursors across a key rotation', () => {
  let rotated: TestApp;
  let newerOnly: TestApp;
  beforeAll(async () => {
    rotated = await createTestApp({ env: { DATA_ENCRYPTION_KEYS: `${newer},${older}` } });
    newerOnly = await createTestApp({ env: { DATA_ENCRYPTION_KEYS: newer } });
  });
  afterAll(async () => {
    await rotated?.close();
    await newerOnly?.close();
  });

  const changes = (on: TestApp, after: string) =>
    on.app.inject({
      method: 'GET',
      url: `/v1/changes?after=${after}&limit=1`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
  const position = { position: { xid: '1', id: '1' } };

  it('accepts a cursor issued under a key still listed, and answers one issued under the newest key', async () => {
    const response = await changes(rotated, cursorsOf([older]).change(position));
    expect(response.statusCode).toBe(200);
    // The answer's cursor is issued under the newest key: accepted once the older key is gone.
    expect((await changes(newerOnly, response.json().nextCursor)).statusCode).toBe(200);
  });

  it('refuses a cursor issued under a key no longer listed, or never listed', async () => {
    expectErrorBody(await changes(newerOnly, cursorsOf([older]).change(position)), 400, 'INVALID_CURSOR');
    expectErrorBody(await changes(rotated, cursorsOf([unknown]).change(position)), 400, 'INVALID_CURSOR');
  });

  it('refuses, as a feed position, a cursor issued by another listing with the same fields', async () => {
    const jobsCursor = cursorsOf([newer]).encode('jobs', { xid: '1', id: '1' });
    expectErrorBody(await changes(rotated, jobsCursor), 400, 'INVALID_CURSOR');
  });

  it('refuses a cursor whose content was changed after it was issued', async () => {
    const issued = Buffer.from(cursorsOf([newer]).change(position), 'base64url');
    const tampered = Buffer.from(issued.toString('latin1').replace('"1"}', '"9"}'), 'latin1');
    expect(tampered.equals(issued)).toBe(false);
    expectErrorBody(await changes(rotated, tampered.toString('base64url')), 400, 'INVALID_CURSOR');
  });

  it('keeps a feed cursor far below the 256 characters a cursor may have', () => {
    const largest = cursorsOf([newer]).change({
      position: { xid: '9223372036854775807', id: '9223372036854775807' },
    });
    expect(largest.length).toBeLessThan(128);
  });
});
