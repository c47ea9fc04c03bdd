import type { SimulatedJob } from './callbacks.js';
import type { Faults } from './faults.js';
import type { JobLife, LifeTiming } from './job-lives.js';

/** A job the simulator knows, as registered through `POST /__sim/jobs`. */
export interface RegisteredJob {
  job: SimulatedJob;
  life: JobLife;
  timing: LifeTiming;
  /** Epoch ms; the life is played relative to it. */
  registeredAt: number;
  faults: Faults;
  /**
   * A recorded job_status answer (from Smile ID's SDKs or docs) to serve instead of the life's own,
   * pointed at this job; its timestamp and signature are made fresh on every answer.
   */
  statusBody?: Record<string, unknown>;
}

/** job_status calls as the simulator saw them, including those it refused. */
export interface CallStats {
  total: number;
  failuresServed: number;
  perJob: Map<string, number>;
  inFlightPerJob: Map<string, number>;
  inFlight: number;
  maxInFlightPerJob: Map<string, number>;
  maxInFlight: number;
  /** Zip PUTs to upload URLs being received at once: what bounds the service's submissions in flight. */
  uploadsInFlight: number;
  maxUploadsInFlight: number;
}

/** A prep upload's answer: where its zip may be PUT, until when, for which job. */
export interface PendingUpload {
  jobId: string;
  userId: string;
  smileJobId: string;
  callbackUrl: string;
  expiresAt: number;
  /** PUTs of a zip to this upload URL, counted as they arrive (valid or not, answered or not). */
  puts: number;
  /** Set once a valid zip was PUT: the job's life has started. */
  uploadedAt?: number;
}

export interface SimulatorState {
  jobs: Map<string, RegisteredJob>;
  /** By upload reference (the last segment of the upload URL). */
  uploads: Map<string, PendingUpload>;
  /** Job ids a prep upload has claimed: another prep upload for one is refused with 2215. */
  uploadedJobIds: Set<string>;
  faults: Faults;
  stats: CallStats;
}

function emptyStats(): CallStats {
  return {
    total: 0,
    failuresServed: 0,
    perJob: new Map(),
    inFlightPerJob: new Map(),
    inFlight: 0,
    maxInFlightPerJob: new Map(),
    maxInFlight: 0,
    uploadsInFlight: 0,
    maxUploadsInFlight: 0,
  };
}

export function createState(defaultFaults: Faults = {}): SimulatorState {
  return {
    jobs: new Map(),
    uploads: new Map(),
    uploadedJobIds: new Set(),
    faults: { ...defaultFaults },
    stats: emptyStats(),
  };
}

/** Forgets jobs and stats and restores the faults the simulator started with. */
export function resetState(state: SimulatorState, defaultFaults: Faults = {}): void {
  state.jobs.clear();
  state.uploads.clear();
  state.uploadedJobIds.clear();
  state.faults = { ...defaultFaults };
  state.stats = emptyStats();
}

/**
 * Counts a job_status call as in flight until the returned function is called. The per-job maximum is
 * what proves that several workers never poll one job at once.
 */
export function beginCall(stats: CallStats, jobId: string | undefined): () => void {
  stats.total += 1;
  stats.inFlight += 1;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  if (jobId === undefined) {
    return () => {
      stats.inFlight -= 1;
    };
  }
  stats.perJob.set(jobId, (stats.perJob.get(jobId) ?? 0) + 1);
  const inFlight = (stats.inFlightPerJob.get(jobId) ?? 0) + 1;
  stats.inFlightPerJob.set(jobId, inFlight);
  stats.maxInFlightPerJob.set(jobId, Math.max(stats.maxInFlightPerJob.get(jobId) ?? 0, inFlight));
  return () => {
    stats.inFlight -= 1;
    stats.inFlightPerJob.set(jobId, (stats.inFlightPerJob.get(jobId) ?? 1) - 1);
  };
}

/** Counts a zip PUT as being received until the returned function is called. */
export function beginUpload(stats: CallStats): () => void {
  stats.uploadsInFlight += 1;
  stats.maxUploadsInFlight = Math.max(stats.maxUploadsInFlight, stats.uploadsInFlight);
  return () => {
    stats.uploadsInFlight -= 1;
  };
}

/** The JSON answer of `GET /__sim/stats`. */
export function statsView(stats: CallStats) {
  const maxPerJob = Object.fromEntries(stats.maxInFlightPerJob);
  return {
    totalCalls: stats.total,
    callsPerJob: Object.fromEntries(stats.perJob),
    inFlight: stats.inFlight,
    maxConcurrentPerJob: maxPerJob,
    maxConcurrentForAnyJob: Math.max(0, ...Object.values(maxPerJob)),
    maxConcurrentOverall: stats.maxInFlight,
    maxConcurrentUploads: stats.maxUploadsInFlight,
  };
}
