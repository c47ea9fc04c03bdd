import path from 'node:path';
import { z } from 'zod';
import { forkTypeScript, freePort, waitUntilReady } from '../shared/processes.js';
import { ROOT } from '../shared/service.js';
import { RECEIVER_PATHS } from './protocol.js';

const countsSchema = z.object({
  /** Verified messages from the service, repeats included. */
  receipts: z.number().int(),
  /** Verified messages from the baseline. */
  baseline: z.number().int(),
  /** Messages whose signature did not verify. */
  refused: z.number().int(),
});
const statsSchema = countsSchema.extend({ unique: z.number().int() });
const arrivalsSchema = countsSchema.extend({
  arrivals: z.array(z.tuple([z.string(), z.array(z.number())])),
});

export type ReceiverStats = z.infer<typeof statsSchema>;
export type ReceiverArrivals = z.infer<typeof arrivalsSchema>;

/** The webhook receiver (bench/notify/receiver.ts) in its own process, verifying with `secret`. */
export async function startReceiver(secret: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = forkTypeScript(path.join(ROOT, 'bench/notify/receiver.ts'), [], {
    env: { ...process.env, PORT: String(port), WEBHOOK_SECRET: secret },
  });
  await waitUntilReady(url, child, { path: RECEIVER_PATHS.stats });
  return {
    child,
    url,
    webhookUrl: `${url}${RECEIVER_PATHS.webhooks}`,
    otherWebhookUrl: `${url}${RECEIVER_PATHS.other}`,
  };
}

/** Makes the receiver's second endpoint hang (`true`) or answer again (`false`). */
export async function setOtherHanging(url: string, hanging: boolean): Promise<void> {
  const response = await fetch(`${url}${hanging ? RECEIVER_PATHS.hang : RECEIVER_PATHS.heal}`, {
    method: 'POST',
  });
  if (!response.ok)
    throw new Error(`the receiver answered ${response.status} to ${hanging ? 'hang' : 'heal'}`);
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

export async function receiverStats(url: string): Promise<ReceiverStats> {
  return statsSchema.parse(await getJson(`${url}${RECEIVER_PATHS.stats}`));
}

/** Every arrival so far, per webhook-id of the service's messages. */
export async function receiverArrivals(url: string): Promise<ReceiverArrivals> {
  return arrivalsSchema.parse(await getJson(`${url}${RECEIVER_PATHS.arrivals}`));
}
