import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { simulatedJob } from './callbacks.js';
import { DELIVERY_ORDERS, deliverCallbacks } from './deliver.js';
import { deliverOverTime } from './deliver-over-time.js';
import { type Faults, faultsSchema } from './faults.js';
import { JOB_LIVES, lifeCallbacks } from './job-lives.js';
import { forJob } from './recorded-shapes.js';
import { resetState, type SimulatorState, statsView } from './state.js';

export interface ControlContext {
  state: SimulatorState;
  partnerId: string;
  apiKey: string;
  now: () => Date;
  random: () => number;
  defaultFaults: Faults;
  /** Aborted when the simulator closes, so no delivery waiting for its moment outlives it. */
  closing?: AbortSignal;
}

const delayMs = z
  .number()
  .int()
  .min(0)
  .max(30 * 24 * 3600 * 1000);
const photoBytes = z.number().int().min(0).max(20_000_000);

const registerSchema = z.strictObject({
  jobId: z.string().min(1),
  userId: z.string().min(1),
  life: z.enum(JOB_LIVES),
  startDelayMs: delayMs.optional(),
  reviewDelayMs: delayMs.optional(),
  photoBytes: photoBytes.optional(),
  faults: faultsSchema.optional(),
  statusBody: z.record(z.string(), z.unknown()).optional(),
});

const deliverSchema = z
  .strictObject({
    callbackUrl: z.url({ protocol: /^https?$/ }),
    order: z.enum(DELIVERY_ORDERS).optional(),
    duplicate: z.number().int().min(0).optional(),
    drop: z.number().int().min(0).optional(),
    photoBytes: photoBytes.optional(),
    /**
     * Sends each callback at its moment in the job's life plus a random delay up to this
     * (deliver-over-time.ts); the answer comes once all are sent.
     */
    spreadMs: delayMs.optional(),
  })
  .refine((input) => input.order === undefined || input.spreadMs === undefined, {
    message: 'order and spreadMs exclude each other: with spreadMs, the delays set the order',
  });

/** The simulator's own routes under `/__sim`, for tests and local runs to script Smile ID. */
export function controlRoutes(app: FastifyInstance, context: ControlContext): void {
  const { state } = context;

  app.post('/__sim/jobs', async (request, reply) => {
    const input = parse(registerSchema, request.body, reply);
    if (!input) return reply;
    const { jobId, userId, life, faults = {}, statusBody, ...timing } = input;
    const job = simulatedJob({ jobId, userId });
    const registeredAt = context.now().getTime();
    // Registering a known job id again restarts its life, like a resubmission.
    state.jobs.set(jobId, {
      job,
      life,
      timing,
      registeredAt,
      faults,
      ...(statusBody ? { statusBody: forJob(statusBody, { jobId, userId }) } : {}),
    });
    const callbacks = lifeCallbacks(life, job, timing).map(({ atMs, label }) => ({ atMs, label }));
    return reply.code(201).send({
      jobId,
      userId,
      life,
      smileJobId: job.smileJobId,
      registeredAt: new Date(registeredAt).toISOString(),
      callbacks,
    });
  });

  app.post<{ Params: { jobId: string } }>('/__sim/jobs/:jobId/faults', async (request, reply) => {
    const { jobId } = request.params;
    const faults = parse(faultsSchema, request.body, reply);
    if (!faults) return reply;
    const registered = state.jobs.get(jobId);
    if (!registered) return reply.code(404).send({ error: `unknown job ${jobId}` });
    registered.faults = faults;
    return { jobId, faults };
  });

  app.post('/__sim/faults', async (request, reply) => {
    const faults = parse(faultsSchema, request.body, reply);
    if (!faults) return reply;
    state.faults = faults;
    return { faults };
  });

  app.get('/__sim/stats', async () => statsView(state.stats));

  app.post('/__sim/reset', async () => {
    resetState(state, context.defaultFaults);
    return { reset: true };
  });

  app.post<{ Params: { jobId: string } }>('/__sim/jobs/:jobId/deliver', async (request, reply) => {
    const { jobId } = request.params;
    const input = parse(deliverSchema, request.body, reply);
    if (!input) return reply;
    const registered = state.jobs.get(jobId);
    if (!registered) return reply.code(404).send({ error: `unknown job ${jobId}` });
    const { photoBytes: photo, spreadMs, ...delivery } = input;
    const timing = { ...registered.timing, ...(photo === undefined ? {} : { photoBytes: photo }) };
    const callbacks = lifeCallbacks(registered.life, registered.job, timing);
    const options = {
      ...delivery,
      partnerId: context.partnerId,
      apiKey: context.apiKey,
      random: context.random,
      now: context.now,
    };
    const report =
      spreadMs === undefined
        ? await deliverCallbacks(callbacks, options)
        : await deliverOverTime(callbacks, {
            ...options,
            spreadMs,
            startedAt: registered.registeredAt,
            signal: context.closing,
          });
    return { jobId, ...report };
  });
}

function parse<T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): T | undefined {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  reply.code(400).send({ error: z.prettifyError(parsed.error) });
  return undefined;
}
