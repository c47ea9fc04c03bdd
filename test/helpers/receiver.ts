import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
  /** Whether `standardwebhooks` verified the signature with the receiver's secret. */
  verified: boolean;
  answered: number | 'held';
  /** When the request arrived (ms since the epoch). */
  at: number;
}

/** An answer with headers or a body: a string, or a stream made for each request. */
export interface FullAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | (() => Readable);
  /** Answers only after this long. */
  afterMs?: number;
}

/** How the receiver answers a request: a status, a status with headers and body, or hold it unanswered. */
export type Answer = number | 'hold' | FullAnswer;

/** A new Standard Webhooks secret. */
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * An internal service receiving the webhooks, on a port of its own: verifies each with the
 * `standardwebhooks` library, records it, and answers as the test says. It can go down and come back
 * on the same port.
 *
 * Answers are scripted per job: the endpoint receives every job's changes made in the test database,
 * which other test files share, so an answer meant for one job's message must not be spent on another's.
 * Its URL is its own too (a port may be used again by a later receiver; its path never is), so that it
 * never inherits an earlier endpoint's row: its place in the feed, its backlog, its state.
 */
export async function startReceiver(secret: string, port = 0) {
  const received: Received[] = [];
  let answers: Answer[] = [];
  let fallback: Answer = 200;
  const scripts = new Map<string, { next: Answer[]; always: Answer }>();
  const held: ServerResponse[] = [];
  let server: Server | undefined;

  const answerFor = (jobId: unknown): Answer => {
    const script = typeof jobId === 'string' ? scripts.get(jobId) : undefined;
    if (script) return script.next.shift() ?? script.always;
    return answers.shift() ?? fallback;
  };

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
      const answer = answerFor(parsed.data.jobId);
      received.push({
        id: String(request.headers['webhook-id']),
        type: parsed.type,
        data: parsed.data,
        verified,
        answered: answer === 'hold' ? 'held' : typeof answer === 'number' ? answer : answer.status,
        at: Date.now(),
      });
      if (answer === 'hold') {
        held.push(response);
        return;
      }
      const full = typeof answer === 'number' ? { status: answer } : answer;
      if (full.afterMs) setTimeout(() => send(response, full), full.afterMs);
      else send(response, full);
    });
  };

  async function listen(onPort: number) {
    server = createServer(handle);
    await new Promise<void>((resolve) => server!.listen(onPort, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  const boundPort = await listen(port);

  return {
    url: `http://127.0.0.1:${boundPort}/webhooks/${randomUUID()}`,
    received,
    /** The next requests' answers, in order, for messages of jobs without a script; then `always`. */
    answer(next: Answer[], always: Answer = 200) {
      answers = [...next];
      fallback = always;
    },
    /** The answers to one job's messages, in order; then `always`. */
    script(jobId: string, next: Answer[], always: Answer = 200) {
      scripts.set(jobId, { next: [...next], always });
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

function send(response: ServerResponse, answer: FullAnswer) {
  response.writeHead(answer.status, answer.headers);
  if (typeof answer.body === 'function') {
    const stream = answer.body();
    // The client may stop reading and close: that ends the stream, not the test.
    response.on('close', () => stream.destroy());
    stream.on('error', () => response.destroy());
    stream.pipe(response);
    return;
  }
  response.end(answer.body);
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
