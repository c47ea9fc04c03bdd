import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { resultCallback } from '../../src/simulator/callbacks.js';
import { BENCH_API_TOKEN, post } from '../shared/requests.js';
import { CapturedPairs } from './pairs.js';
import { type Forgery, type PlannedJob, TRAFFIC } from './plan.js';

/**
 * Plays the plan against the service: each job is registered with the service and with Smile ID (the
 * simulator), which then delivers its callbacks over time with losses, duplicates and delays, while
 * forged results carrying pairs captured from other jobs' callbacks are posted at their moments.
 */

/** A forgery whose moment comes before any pair was captured waits this long for one, then is skipped. */
const PAIR_WAIT_MS = 30_000;

const simulatorJobSchema = z.object({
  registeredAt: z.iso.datetime(),
  callbacks: z.array(z.object({ atMs: z.number() })),
});

const deliveryReportSchema = z.object({
  deliveries: z.array(
    z.object({
      repeat: z.boolean(),
      timestamp: z.string(),
      signature: z.string(),
      status: z.number().nullable(),
    }),
  ),
  dropped: z.array(z.string()),
});

export interface DriveTargets {
  serviceUrl: string;
  simulatorUrl: string;
  /** Epoch ms the plan's arrival times count from. */
  startedAt: number;
  /** Called once the simulator knows the job: Smile ID's final result is due at `finalAt` (epoch ms). */
  onRegistered: (planned: PlannedJob, finalAt: number) => void;
}

/** What was sent, and what the service answered, by HTTP status (`none`: no answer). */
export interface DriveReport {
  callbacks: { sent: number; duplicated: number; lost: number; answers: Record<string, number> };
  /** `beforeFinal`: posted while Smile ID had no final result yet (during review, for a review). */
  forgeries: { posted: number; beforeFinal: number; withoutPair: number; answers: Record<string, number> };
}

export async function drive(plan: readonly PlannedJob[], targets: DriveTargets): Promise<DriveReport> {
  const report: DriveReport = {
    callbacks: { sent: 0, duplicated: 0, lost: 0, answers: {} },
    forgeries: { posted: 0, beforeFinal: 0, withoutPair: 0, answers: {} },
  };
  const pairs = new CapturedPairs();
  const running: Promise<void>[] = [];
  let failure: unknown;
  for (const planned of plan) {
    await sleep(Math.max(0, targets.startedAt + planned.arriveAtMs - Date.now()));
    if (failure !== undefined) break;
    const run = runJob(planned, targets, pairs, report).catch((error: unknown) => {
      failure ??= error;
    });
    running.push(run);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return report;
}

async function runJob(planned: PlannedJob, targets: DriveTargets, pairs: CapturedPairs, report: DriveReport) {
  const { job } = planned;
  await post(`${targets.serviceUrl}/v1/jobs`, { jobId: job.jobId, userId: job.userId }, 201, {
    authorization: `Bearer ${BENCH_API_TOKEN}`,
  });
  const registration = {
    jobId: job.jobId,
    userId: job.userId,
    life: planned.life,
    startDelayMs: planned.startDelayMs,
    ...(planned.reviewDelayMs === undefined ? {} : { reviewDelayMs: planned.reviewDelayMs }),
  };
  const known = simulatorJobSchema.parse(
    JSON.parse(await post(`${targets.simulatorUrl}/__sim/jobs`, registration, 201)),
  );
  const registeredAt = Date.parse(known.registeredAt);
  const finalAt = registeredAt + Math.max(...known.callbacks.map(({ atMs }) => atMs));
  targets.onRegistered(planned, finalAt);

  const delivery = post(
    `${targets.simulatorUrl}/__sim/jobs/${encodeURIComponent(job.jobId)}/deliver`,
    {
      callbackUrl: `${targets.serviceUrl}/callbacks/smile-id`,
      drop: planned.drop,
      duplicate: planned.duplicate,
      spreadMs: TRAFFIC.spreadMs,
    },
    200,
  ).then((text) => {
    const { deliveries, dropped } = deliveryReportSchema.parse(JSON.parse(text));
    report.callbacks.lost += dropped.length;
    for (const { repeat, timestamp, signature, status } of deliveries) {
      report.callbacks[repeat ? 'duplicated' : 'sent'] += 1;
      tally(report.callbacks.answers, status);
      if (!repeat && signature !== '') pairs.add({ jobId: job.jobId, timestamp, signature });
    }
  });
  const forgeries = planned.forgeries.map((forgery) =>
    forge(planned, forgery, { registeredAt, finalAt }, targets, pairs, report),
  );
  await Promise.all([delivery, ...forgeries]);
}

/** Posts a made-up final result for the job, carrying another job's genuine (timestamp, signature). */
async function forge(
  { job }: PlannedJob,
  forgery: Forgery,
  { registeredAt, finalAt }: { registeredAt: number; finalAt: number },
  targets: DriveTargets,
  pairs: CapturedPairs,
  report: DriveReport,
) {
  await sleep(Math.max(0, registeredAt + forgery.atMs - Date.now()));
  const pair = await pairs.fromAnotherJob(job.jobId, PAIR_WAIT_MS);
  if (!pair) {
    report.forgeries.withoutPair += 1;
    return;
  }
  const body = {
    ...resultCallback(job, forgery.claim),
    timestamp: pair.timestamp,
    signature: pair.signature,
  };
  if (Date.now() < finalAt) report.forgeries.beforeFinal += 1;
  const status = await fetch(`${targets.serviceUrl}/callbacks/smile-id`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    () => null,
  );
  report.forgeries.posted += 1;
  tally(report.forgeries.answers, status);
}

function tally(answers: Record<string, number>, status: number | null) {
  const key = status === null ? 'none' : String(status);
  answers[key] = (answers[key] ?? 0) + 1;
}
