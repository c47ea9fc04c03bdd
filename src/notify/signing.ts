import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks headers for one attempt: `webhook-id` stays the same on every attempt;
 * `webhook-timestamp` is the attempt's (receivers refuse stale ones); `webhook-signature` holds one
 * signature per secret, so a receiver still on the old secret of a rotation verifies too.
 */
export function signedHeaders(secrets: string, messageId: string, payload: string, at: Date) {
  const signatures = secrets.split('|').map((secret) => new Webhook(secret).sign(messageId, at, payload));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
