import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { computeSignature } from '../../src/smileid/signature.js';
import {
  API_TOKEN,
  createTestApp,
  PII_TOKEN,
  TEST_API_KEY,
  TEST_PARTNER_ID,
  type TestApp,
} from '../helpers/app.js';
import { postCallback, signed } from '../helpers/callbacks.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Everything about a person (or a secret) that must never reach a log line, with its label. */
function secretsOf(job: SimulatedJob, photo: string): Array<[string, string]> {
  return [
    ['full name', job.fullName],
    ['ID number', job.idNumber],
    ['date of birth', job.dob],
    ['phone number', job.phoneNumber],
    // The start of a photo is the same fake JPEG header for everyone; look at its body.
    ['photo', photo.slice(1000, 1040)],
  ];
}

describe('logs while handling identity data', () => {
  let t: TestApp;
  const accepted = simulatedJob();
  const badlySigned = simulatedJob();
  const unparseable = simulatedJob();
  const stale = simulatedJob();
  const secrets: Array<[string, string]> = [];
  let idInfoRead: Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestApp({ env: { LOG_LEVEL: 'trace' } });
    const post = async (body: Record<string, unknown> | string, status: number) => {
      const response = await postCallback(t.app, body);
      expect(response.statusCode, response.body).toBe(status);
      const { signature } = typeof body === 'string' ? {} : body;
      if (typeof signature === 'string') secrets.push(['signature', signature]);
    };

    // Accepted: the result, the ID authority's record with a photo, and Smile Secure's fraud signal.
    const idInfo = idInfoCallback(accepted, { photoBytes: 8192, previousRegistrants: ['user-earlier'] });
    secrets.push(...secretsOf(accepted, String(idInfo.Photo)));
    await post(signed(resultCallback(accepted)), 200);
    await post(signed(idInfo), 200);
    await post(
      signed(smileSecureCallback(accepted, [{ user_id: 'user-suspect', reason: 'same face' }])),
      200,
    );

    // Refused: PII under a signature made with a key we do not hold.
    const forged = idInfoCallback(badlySigned);
    secrets.push(...secretsOf(badlySigned, String(forged.Photo)));
    const timestamp = new Date().toISOString();
    const forgedSignature = computeSignature('someone-elses-key', TEST_PARTNER_ID, timestamp);
    await post({ ...forged, timestamp, signature: forgedSignature }, 401);

    // Refused: invalid JSON carrying an ID number.
    const broken = idInfoCallback(unparseable);
    secrets.push(...secretsOf(unparseable, String(broken.Photo)));
    await post(`${JSON.stringify(signed(broken)).slice(0, -1)},"IDNumber":"${unparseable.idNumber}"`, 400);

    // Stored but distrusted: a signed ID callback whose timestamp is two days old.
    const old = idInfoCallback(stale);
    secrets.push(...secretsOf(stale, String(old.Photo)));
    await post(signed(old, new Date(Date.now() - 2 * DAY_MS).toISOString()), 200);

    // Read back with the PII token, so the outcome's identity data passes through the API too.
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${accepted.jobId}?include=idInfo`,
      headers: { authorization: `Bearer ${PII_TOKEN}` },
    });
    expect(read.statusCode).toBe(200);
    idInfoRead = read.json().idInfo;
    const plain = await t.app.inject({
      method: 'GET',
      url: `/v1/jobs/${accepted.jobId}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(plain.statusCode).toBe(200);

    secrets.push(
      ['API key', TEST_API_KEY],
      ['previous API key', 'previous-api-key'],
      ['bearer token', API_TOKEN],
      ['PII bearer token', PII_TOKEN],
    );
  });
  afterAll(() => t?.close());

  it('captured logs at every level, for every request', () => {
    const lines = t
      .logs()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg?: string; jobId?: string });
    expect(lines.length).toBeGreaterThanOrEqual(14);
    expect(lines.some((line) => line.msg === 'callback stored' && line.jobId === accepted.jobId)).toBe(true);
    expect(lines.some((line) => line.msg === 'callback stored' && line.jobId === stale.jobId)).toBe(true);
    expect(lines.some((line) => line.msg === 'callback refused: signature does not verify')).toBe(true);
    expect(lines.filter((line) => line.msg === 'incoming request')).toHaveLength(8);
    expect(t.config.LOG_LEVEL).toBe('trace');
  });

  it('served the identity data it must keep out of the logs', () => {
    expect(idInfoRead).toMatchObject({
      fullName: accepted.fullName,
      idNumber: accepted.idNumber,
      dob: accepted.dob,
      phoneNumber: accepted.phoneNumber,
    });
  });

  it('never logs a name, ID number, date of birth, phone number, photo, signature, key or token', () => {
    const logs = t.logs();
    expect(secrets.length).toBeGreaterThan(20);
    const leaked = secrets.filter(([, value]) => value.length >= 8 && logs.includes(value));
    expect(leaked.map(([label]) => label)).toEqual([]);
    for (const [label, value] of secrets) expect(value.length, label).toBeGreaterThanOrEqual(8);
  });

  it('never logs either half of a full name next to the other identity fields', () => {
    const logs = t.logs();
    for (const job of [accepted, badlySigned, unparseable, stale]) {
      const [first, last] = job.fullName.split(' ');
      expect(logs).not.toContain(`"${first}"`);
      expect(logs).not.toContain(`"${last}"`);
    }
  });
});
