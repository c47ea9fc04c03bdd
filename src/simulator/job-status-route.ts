import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { computeSignature } from '../smileid/signature.js';
import { simulatedJob } from './callbacks.js';
import { decideFault, type FaultDecision } from './faults.js';
import { jobStatusAt } from './job-lives.js';
import { type JobStatusRequest, jobIdOf, readJobStatusRequest } from './job-status-request.js';
import { beginCall, type SimulatorState } from './state.js';

export interface JobStatusContext {
  state: SimulatorState;
  partnerId: string;
  apiKey: string;
  now: () => Date;
  random: () => number;
  /** Aborted when the simulator closes: releases every delayed or held call, so no timer outlives it. */
  closing: AbortSignal;
}

const SHUTTING_DOWN = { code: '2201', error: 'System error: simulator shutting down' };

/** `POST /v1/job_status`, Smile ID's wire format (docs/smile-id.md#job-status-api), with faults on demand. */
export function jobStatusRoute(app: FastifyInstance, context: JobStatusContext): void {
  const { state, closing } = context;
  app.post('/v1/job_status', async (request, reply) => {
    const jobId = jobIdOf(request.body);
    const endCall = beginCall(state.stats, jobId);
    try {
      const registered = jobId === undefined ? undefined : state.jobs.get(jobId);
      const fault = decideFault(registered?.faults, state.faults, state.stats.failuresServed, context.random);
      if (fault.latencyMs > 0) {
        // The wait rejects only when the simulator starts closing.
        const slept = await delay(fault.latencyMs, true, { signal: closing }).catch(() => false);
        if (!slept) return reply.code(503).send(SHUTTING_DOWN);
      }
      switch (fault.action.kind) {
        case 'hold': {
          // No timer: the call ends when the client gives up or the simulator closes.
          if ((await heldUntilGone(reply, closing)) === 'client_gone') return reply.hijack();
          return reply.code(503).send(SHUTTING_DOWN);
        }
        case 'fail':
          state.stats.failuresServed += 1;
          return reply.code(fault.action.status).send({ code: '2201', error: 'System error (simulated)' });
        case 'auth_error':
          return reply.code(401).send({ code: '2205', error: 'You are not authorized to do that.' });
        case 'none':
          break;
      }
      const checked = readJobStatusRequest(request.body, context);
      if (!checked.ok) return reply.code(checked.status).send({ code: checked.code, error: checked.error });
      return answer(context, checked.request, fault);
    } finally {
      endCall();
    }
  });
}

function answer(context: JobStatusContext, request: JobStatusRequest, fault: FaultDecision) {
  const now = context.now();
  const registered = context.state.jobs.get(request.jobId);
  // A job asked for under another user is, to Smile ID, a job that does not exist.
  const status =
    registered && registered.job.userId === request.userId
      ? jobStatusAt(
          registered.life,
          registered.job,
          now.getTime() - registered.registeredAt,
          registered.timing,
        )
      : jobStatusAt('never_started', simulatedJob({ jobId: request.jobId, userId: request.userId }), 0);
  const timestamp = now.toISOString();
  const key = fault.badSignature ? `${context.apiKey}:not-the-key` : context.apiKey;
  const recorded = registered?.job.userId === request.userId ? registered.statusBody : undefined;
  if (recorded) {
    const { timestamp: _t, signature: _s, ...shape } = recorded;
    return { ...shape, timestamp, signature: computeSignature(key, context.partnerId, timestamp) };
  }
  return {
    timestamp,
    signature: computeSignature(key, context.partnerId, timestamp),
    job_complete: status.job_complete,
    job_success: status.job_success,
    code: status.code,
    result: fault.resultAsString ?? status.result,
    ...(request.history ? { history: status.history } : {}),
    ...(request.imageLinks ? { image_links: status.image_links } : {}),
  };
}

/** Waits until the client closes the connection or the simulator closes, whichever comes first. */
function heldUntilGone(reply: FastifyReply, closing: AbortSignal): Promise<'client_gone' | 'closing'> {
  return new Promise((resolve) => {
    if (closing.aborted) return resolve('closing');
    const onClientGone = () => finish('client_gone');
    const onClosing = () => finish('closing');
    const finish = (why: 'client_gone' | 'closing') => {
      reply.raw.off('close', onClientGone);
      closing.removeEventListener('abort', onClosing);
      resolve(why);
    };
    reply.raw.once('close', onClientGone);
    closing.addEventListener('abort', onClosing, { once: true });
  });
}
