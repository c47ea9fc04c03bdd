import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  /** Whether `standardwebhooks` verified the signature with the receiver's secret. */
  verified: boolean;
  answered: number | 'held';
}

/** How the receiver answers the next request: a status, or hold it without answering. */
export type Answer = number | 'hold';

/** A new Standard Webhooks secret. */
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * An internal service receiving the webhooks, on a port of its own: verifies each with the
 * `standardwebhooks` library, records it, and answers as the test says. It can go down and come back
 * on the same port.
 */
export async function startReceiver(secret: string, port = 0) {
  const received: Received[] = [];
  let answers: Answer[] = [];
  let fallback: Answer = 200;
  const held: ServerResponse[] = [];
  let server: Server | undefined;

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let verified = true;
      try {
        new Webhook(secret).verify(body, request.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      const parsed = JSON.parse(body) as { type: string; data: Record<string, unknown> };
      const answer = answers.shift() ?? fallback;
      received.push({
        id: String(request.headers['webhook-id']),
        type: parsed.type,
        data: parsed.data,
        verified,
        answered: answer === 'hold' ? 'held' : answer,
      });
      if (answer === 'hold') {
        held.push(response);
        return;
      }
      response.writeHead(answer).end();
    });
  };

  async function listen(onPort: number) {
    server = createServer(handle);
    await new Promise<void>((resolve) => server!.listen(onPort, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  const boundPort = await listen(port);

  return {
    url: `http://127.0.0.1:${boundPort}/webhooks`,
    received,
    /** The next requests' answers, in order; then `always`. */
    answer(next: Answer[], always: Answer = 200) {
      answers = [...next];
      fallback = always;
    },
    /** Stops listening: deliveries meet a refused connection. */
    async down() {
      for (const response of held.splice(0)) response.destroy();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    },
    async up() {
      await listen(boundPort);
    },
    async close() {
      await this.down().catch(() => undefined);
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Waits until `done` holds, or fails after `timeoutMs`. */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
