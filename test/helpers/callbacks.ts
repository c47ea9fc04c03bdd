import type { FastifyInstance } from 'fastify';
import {
  idInfoCallback,
  resultCallback,
  type SimulatedJob,
  signCallback,
} from '../../src/simulator/callbacks.js';
import { TEST_API_KEY, TEST_PARTNER_ID } from './app.js';

/** Signs a body with the test key, as Smile ID would. */
export function signed(body: Record<string, unknown>, timestamp?: string): Record<string, unknown> {
  return signCallback(body, { apiKey: TEST_API_KEY, partnerId: TEST_PARTNER_ID, timestamp });
}

/** POSTs a callback body (an object, or exact text) to the intake route. */
export function postCallback(
  app: FastifyInstance,
  body: Record<string, unknown> | string | Buffer,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/callbacks/smile-id',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

/** Stores a job's result and ID-information callbacks, failing the test if either is refused. */
export async function storeJob(app: FastifyInstance, job: SimulatedJob): Promise<void> {
  for (const body of [resultCallback(job), idInfoCallback(job)]) {
    const response = await postCallback(app, signed(body));
    if (response.statusCode !== 200)
      throw new Error(`callback refused: ${response.statusCode} ${response.body}`);
  }
}
