import { signCallback } from './callbacks.js';

/**
 * Plays Smile ID's callback delivery, whose retries and ordering are undocumented (docs/smile-id.md#callback-kinds): callbacks
 * in any order, some twice, some never.
 */

export const DELIVERY_ORDERS = ['natural', 'shuffled', 'reversed'] as const;
export type DeliveryOrder = (typeof DELIVERY_ORDERS)[number];

export interface DeliveryOptions {
  callbackUrl: string;
  partnerId: string;
  apiKey: string;
  order?: DeliveryOrder;
  /** How many callbacks are sent twice. */
  duplicate?: number;
  /** How many callbacks are lost. */
  drop?: number;
  random?: () => number;
  now?: () => Date;
  timeoutMs?: number;
  /** Called after each POST, e.g. to print progress. */
  onDelivery?: (delivery: Delivery) => void;
}

export interface Delivery {
  label: string;
  /** True for the second sending of a duplicated callback. */
  repeat: boolean;
  timestamp: string;
  /** What a receiver (or an eavesdropper) sees next to the timestamp: it covers no part of the body. */
  signature: string;
  bytes: number;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The start of the receiver's answer, or the network error. */
  response: string;
  durationMs: number;
}

export interface DeliveryReport {
  deliveries: Delivery[];
  dropped: string[];
}

/** POSTs `callbacks` to `callbackUrl` one after another and reports what happened to each. */
export async function deliverCallbacks(
  callbacks: readonly { label: string; body: Record<string, unknown> }[],
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const random = options.random ?? Math.random;
  const { sendings, dropped } = chooseSendings(callbacks, options, random);
  const plan = ordered(sendings, options.order ?? 'natural', random);
  const send = sender(callbacks, options);
  const deliveries: Delivery[] = [];
  for (const index of plan) {
    const delivery = await send(index);
    deliveries.push(delivery);
    options.onDelivery?.(delivery);
  }
  return { deliveries, dropped };
}

/** Which callbacks are lost (by label) and which are sent, by index, a duplicated one twice. */
export function chooseSendings(
  callbacks: readonly { label: string }[],
  options: Pick<DeliveryOptions, 'drop' | 'duplicate'>,
  random: () => number,
): { sendings: number[]; dropped: string[] } {
  const indexes = callbacks.map((_, index) => index);
  const dropped = new Set(pickSome(indexes, options.drop ?? 0, random));
  const kept = indexes.filter((index) => !dropped.has(index));
  const repeated = new Set(pickSome(kept, options.duplicate ?? 0, random));
  return {
    sendings: kept.flatMap((index) => (repeated.has(index) ? [index, index] : [index])),
    dropped: [...dropped].sort((a, b) => a - b).map((index) => callbacks[index]!.label),
  };
}

/**
 * Sends callback `index`, signing it when it is first sent, with its own fresh timestamp; a duplicate
 * resends the same bytes, as a retry would.
 */
export function sender(
  callbacks: readonly { label: string; body: Record<string, unknown> }[],
  options: DeliveryOptions,
): (index: number) => Promise<Delivery> {
  const now = options.now ?? (() => new Date());
  const signed = new Map<number, { text: string; timestamp: string; signature: string }>();
  return async (index) => {
    const callback = callbacks[index]!;
    const repeat = signed.has(index);
    if (!repeat) {
      const timestamp = now().toISOString();
      const body = signCallback(callback.body, { ...options, timestamp });
      signed.set(index, { text: JSON.stringify(body), timestamp, signature: String(body.signature) });
    }
    const { text, timestamp, signature } = signed.get(index)!;
    return { label: callback.label, repeat, timestamp, signature, ...(await post(text, options)) };
  };
}

async function post(text: string, options: DeliveryOptions) {
  const started = performance.now();
  const bytes = Buffer.byteLength(text);
  try {
    const response = await fetch(options.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const answer = await response.text();
    return { bytes, status: response.status, response: answer.slice(0, 500), durationMs: since(started) };
  } catch (error) {
    return { bytes, status: null, response: (error as Error).message, durationMs: since(started) };
  }
}

const since = (started: number) => Math.round(performance.now() - started);

/** `count` distinct items, chosen at random. */
function pickSome(items: readonly number[], count: number, random: () => number): number[] {
  return shuffle(items, random).slice(0, Math.max(0, count));
}

/** Natural order keeps a duplicate right behind its original, as an immediate retry would. */
function ordered(plan: number[], order: DeliveryOrder, random: () => number): number[] {
  const natural = [...plan].sort((a, b) => a - b);
  if (order === 'reversed') return natural.reverse();
  return order === 'shuffled' ? shuffle(natural, random) : natural;
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
