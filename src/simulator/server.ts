import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { controlRoutes } from './control-routes.js';
import type { Faults } from './faults.js';
import { jobStatusRoute } from './job-status-route.js';
import { createState, type SimulatorState } from './state.js';
import { uploadRoutes } from './upload-routes.js';

export interface SimulatorOptions {
  partnerId: string;
  apiKey: string;
  now?: () => Date;
  logger?: FastifyBaseLogger;
  /** Drives failRate and delivery shuffles; pass a seeded one for repeatable runs. */
  random?: () => number;
  /** Faults in force from the start and again after `POST /__sim/reset` (e.g. the CLI's --latency-ms). */
  defaultFaults?: Faults;
  /** How long an upload URL accepts its zip; default one hour. */
  uploadUrlTtlMs?: number;
}

export interface Simulator {
  app: FastifyInstance;
  state: SimulatorState;
}

/**
 * The only fake in the project: Smile ID's job_status and upload endpoints and callback delivery, scripted through
 * `/__sim` routes. Like the service's app, it never listens itself; the CLI or a test does.
 */
export function buildSimulator(options: SimulatorOptions): Simulator {
  const { partnerId, apiKey, now = () => new Date(), random = Math.random, defaultFaults = {} } = options;
  // Closing means gone: a connection its client abandoned mid-call (a timed-out job_status call) must not hold
  // the close open until Node's own timeouts reap it, a minute later.
  const app = Fastify({ loggerInstance: options.logger, forceCloseConnections: true });
  const state = createState(defaultFaults);

  // Releases calls held by latency or timeoutNext before Fastify waits for in-flight requests.
  const closing = new AbortController();
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });

  // Smile ID answers malformed requests with a code, never with Fastify's own error shape.
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) return reply.code(500).send({ code: '2201', error: 'System error' });
    return reply.code(400).send({ code: '2203', error: 'Invalid JSON' });
  });

  jobStatusRoute(app, { state, partnerId, apiKey, now, random, closing: closing.signal });
  controlRoutes(app, { state, partnerId, apiKey, now, random, defaultFaults, closing: closing.signal });
  uploadRoutes(app, {
    state,
    partnerId,
    apiKey,
    now,
    random,
    uploadUrlTtlMs: options.uploadUrlTtlMs ?? 3_600_000,
    closing: closing.signal,
  });
  return { app, state };
}
