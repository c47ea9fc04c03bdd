import { setTimeout as sleep } from 'node:timers/promises';
import {
  chooseSendings,
  type Delivery,
  type DeliveryOptions,
  type DeliveryReport,
  sender,
} from './deliver.js';

/**
 * Delivery as it unfolds in time: each sending waits for its callback's moment in the job's life, then
 * for a random delay of its own, so a job's callbacks (and their duplicates) overlap and arrive in an
 * order set by the delays, and a review's final result is not sent before the review ends.
 */

export interface TimedDeliveryOptions extends Omit<DeliveryOptions, 'order'> {
  /** Epoch ms the life's `atMs` count from: the job's registration in the simulator. */
  startedAt: number;
  /** Each sending is delayed by up to this much beyond its callback's moment. */
  spreadMs: number;
  /** Aborted when the simulator closes: sendings still waiting are reported as not sent. */
  signal?: AbortSignal;
}

export const NOT_SENT = 'not sent: the simulator closed first';

/** Sends every chosen callback at its moment plus its delay; the report lists them in sending order. */
export async function deliverOverTime(
  callbacks: readonly { label: string; atMs: number; body: Record<string, unknown> }[],
  options: TimedDeliveryOptions,
): Promise<DeliveryReport> {
  const random = options.random ?? Math.random;
  const { sendings, dropped } = chooseSendings(callbacks, options, random);
  const send = sender(callbacks, options);
  const now = options.now ?? (() => new Date());
  // In the order the sendings start, which is the order the receiver sees them in.
  const started: Promise<Delivery>[] = [];
  const sendAt = async (index: number, dueAt: number) => {
    const delay = Math.max(0, dueAt - now().getTime());
    // The wait rejects only when the signal aborts: the simulator is closing.
    const waited = await sleep(delay, true, { signal: options.signal }).catch(() => false);
    started.push(waited ? send(index).then(reported(options)) : Promise.resolve(notSent(callbacks[index]!)));
  };
  await Promise.all(
    sendings.map((index) =>
      sendAt(index, options.startedAt + callbacks[index]!.atMs + random() * options.spreadMs),
    ),
  );
  const deliveries = await Promise.all(started);
  return { deliveries, dropped };
}

const reported = (options: TimedDeliveryOptions) => (delivery: Delivery) => {
  options.onDelivery?.(delivery);
  return delivery;
};

function notSent({ label }: { label: string }): Delivery {
  return {
    label,
    repeat: false,
    timestamp: '',
    signature: '',
    bytes: 0,
    status: null,
    response: NOT_SENT,
    durationMs: 0,
  };
}
