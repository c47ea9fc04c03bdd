import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { BASELINE_ID_PREFIX, RECEIVER_PATHS } from './protocol.js';

/**
 * The webhook endpoint of bench:notify, in a process of its own so that its CPU is never the service's.
 * It checks each message as a consumer would, `new Webhook(secret).verify(body, headers)` on the raw
 * bytes, answers 204, and records when each webhook-id arrived, every time it did; the baseline's ids
 * are only counted. Usage: PORT=… WEBHOOK_SECRET=… node --import tsx this file (receiver-client.ts
 * forks it). It also plays a second endpoint, which answers 204 unread, or hangs on request: every
 * message to it is held unanswered until the service's timeout.
 */

const webhook = new Webhook(process.env.WEBHOOK_SECRET ?? '');
/** Arrival times (epoch ms) per webhook-id of the service's messages. */
const arrivals = new Map<string, number[]>();
const counts = { receipts: 0, baseline: 0, refused: 0 };
/** The second endpoint's requests held unanswered while it hangs. */
let held: ServerResponse[] | undefined;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function webhookHeaders(request: IncomingMessage) {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : '';
  };
  return {
    'webhook-id': header('webhook-id'),
    'webhook-timestamp': header('webhook-timestamp'),
    'webhook-signature': header('webhook-signature'),
  };
}

/** 204 once verified; 400 for anything that does not verify, which the service will send again. */
async function receive(request: IncomingMessage): Promise<number> {
  const body = await readBody(request);
  const headers = webhookHeaders(request);
  try {
    webhook.verify(body, headers);
  } catch {
    counts.refused += 1;
    return 400;
  }
  const receivedAt = Date.now();
  const id = headers['webhook-id'];
  if (id.startsWith(BASELINE_ID_PREFIX)) {
    counts.baseline += 1;
    return 204;
  }
  counts.receipts += 1;
  const times = arrivals.get(id);
  if (times) times.push(receivedAt);
  else arrivals.set(id, [receivedAt]);
  return 204;
}

function answer(response: ServerResponse, status: number, body?: unknown) {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === RECEIVER_PATHS.webhooks) {
    receive(request).then(
      (status) => answer(response, status),
      () => answer(response, 500),
    );
  } else if (request.method === 'POST' && request.url === RECEIVER_PATHS.other) {
    request.resume();
    if (held) held.push(response);
    else request.on('end', () => answer(response, 204));
  } else if (request.method === 'POST' && request.url === RECEIVER_PATHS.hang) {
    held ??= [];
    answer(response, 204);
  } else if (request.method === 'POST' && request.url === RECEIVER_PATHS.heal) {
    for (const waiting of held ?? []) waiting.destroy();
    held = undefined;
    answer(response, 204);
  } else if (request.method === 'GET' && request.url === RECEIVER_PATHS.stats) {
    answer(response, 200, { ...counts, unique: arrivals.size });
  } else if (request.method === 'GET' && request.url === RECEIVER_PATHS.arrivals) {
    answer(response, 200, { ...counts, arrivals: [...arrivals] });
  } else {
    answer(response, 404);
  }
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
// Orphaned by a crashed orchestrator: go away rather than hold the port.
process.once('disconnect', stop);

server.listen(Number(process.env.PORT), '127.0.0.1');
