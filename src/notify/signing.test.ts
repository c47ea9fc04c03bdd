import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signedHeaders } from './signing.js';

describe('signedHeaders', () => {
  const oldSecret = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
  const newSecret = `whsec_${Buffer.alloc(24, 2).toString('base64')}`;
  const payload = JSON.stringify({ type: 'job.updated', timestamp: '2026-12-03T12:00:00.000Z', data: {} });

  it('signs so that the standardwebhooks library verifies, with the attempt’s timestamp and a stable id', () => {
    const at = new Date();
    const headers = signedHeaders(newSecret, 'msg_1_updated', payload, at);
    expect(headers['webhook-id']).toBe('msg_1_updated');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(new Webhook(newSecret).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(() => new Webhook(oldSecret).verify(payload, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(`${payload} `, headers)).toThrow();
  });

  it('signs with every secret of a rotation, so receivers on either verify', () => {
    const headers = signedHeaders(`${newSecret}|${oldSecret}`, 'msg_2_updated', payload, new Date());
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [newSecret, oldSecret]) {
      expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
    }
  });
});
