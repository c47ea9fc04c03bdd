import { quantile } from '../shared/quantile.js';
import type { ExpectedMessage } from './feed.js';

/** One phase as the bench saw it: which changes it made, and what the worker spent meanwhile. */
export interface PhaseWindow {
  label: string;
  /** The changes it made, read back from the feed. */
  expected: ExpectedMessage[];
  /** How long it produced changes; 0 for a burst committed at once. */
  producingMs: number;
  /** Where latency counts from, when not each change's own `at`: the burst's commit, as the bench saw it. */
  committedAt?: number | undefined;
  /** False when the bench stopped waiting for the phase's last changes and messages. */
  drained: boolean;
  workerCpuMs: number;
  /** The whole machine's busy CPU time over the phase, as a share of all its CPUs. */
  machineBusyShare: number;
  /** With a second endpoint listed: what it did meanwhile (its messages are not counted here). */
  secondEndpoint?: 'answering' | 'hanging' | undefined;
}

export interface PhaseFigures {
  label: string;
  secondEndpoint: PhaseWindow['secondEndpoint'];
  changes: number;
  /** Changes per second while producing; undefined for a burst. */
  changesPerSecond: number | undefined;
  messages: number;
  /** Messages received, first arrival to last. */
  deliveredPerSecond: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  maxMs: number | undefined;
  lost: number;
  /** Arrivals beyond the first of a webhook-id. */
  duplicates: number;
  /** Messages whose first arrival came before that of an earlier message of the same job. */
  outOfOrder: number;
  /** From a change's `job.updated` arriving to its `job.finalized` arriving: the next message of a job. */
  finalizedGapP50Ms: number | undefined;
  finalizedGapP99Ms: number | undefined;
  workerCpuMsPerMessage: number;
  machineBusyShare: number;
}

export function phaseFigures(window: PhaseWindow, arrivals: ReadonlyMap<string, number[]>): PhaseFigures {
  const { expected } = window;
  const firstArrival = (id: string) => arrivals.get(id)?.[0];
  const latencies: number[] = [];
  const arrived: number[] = [];
  let duplicates = 0;
  for (const message of expected) {
    const times = arrivals.get(message.id) ?? [];
    if (times.length === 0) continue;
    duplicates += times.length - 1;
    arrived.push(times[0]!);
    latencies.push(times[0]! - (window.committedAt ?? message.atMs));
  }
  const spanMs = arrived.length > 1 ? Math.max(...arrived) - Math.min(...arrived) : 0;
  const changes = new Set(expected.map((message) => message.changeId)).size;
  return {
    label: window.label,
    secondEndpoint: window.secondEndpoint,
    changes,
    changesPerSecond: window.producingMs > 0 ? changes / (window.producingMs / 1000) : undefined,
    messages: expected.length,
    deliveredPerSecond: spanMs > 0 ? ((arrived.length - 1) * 1000) / spanMs : 0,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
    lost: expected.length - arrived.length,
    duplicates,
    outOfOrder: countOutOfOrder(expected, firstArrival),
    ...finalizedGaps(expected, firstArrival),
    workerCpuMsPerMessage: window.workerCpuMs / Math.max(1, arrived.length),
    machineBusyShare: window.machineBusyShare,
  };
}

/** Per job, in feed order (a change's `job.updated` before its `job.finalized`), arrivals must not go back. */
function countOutOfOrder(
  expected: readonly ExpectedMessage[],
  firstArrival: (id: string) => number | undefined,
): number {
  const latestByJob = new Map<string, number>();
  let outOfOrder = 0;
  for (const message of expected) {
    const at = firstArrival(message.id);
    if (at === undefined) continue;
    const latest = latestByJob.get(message.jobId) ?? Number.NEGATIVE_INFINITY;
    if (at < latest) outOfOrder += 1;
    latestByJob.set(message.jobId, Math.max(at, latest));
  }
  return outOfOrder;
}

function finalizedGaps(
  expected: readonly ExpectedMessage[],
  firstArrival: (id: string) => number | undefined,
) {
  const updatedAt = new Map<number, number | undefined>();
  const gaps: number[] = [];
  for (const message of expected) {
    const at = firstArrival(message.id);
    if (message.event === 'job.updated') updatedAt.set(message.changeId, at);
    const before = updatedAt.get(message.changeId);
    if (message.event === 'job.finalized' && at !== undefined && before !== undefined) gaps.push(at - before);
  }
  return { finalizedGapP50Ms: quantile(gaps, 0.5), finalizedGapP99Ms: quantile(gaps, 0.99) };
}

/** Webhook-ids the receiver got that no change of the feed explains. */
export function unexpectedIds(
  expected: readonly ExpectedMessage[],
  arrivals: ReadonlyMap<string, number[]>,
): number {
  const known = new Set(expected.map((message) => message.id));
  return [...arrivals.keys()].filter((id) => !known.has(id)).length;
}
