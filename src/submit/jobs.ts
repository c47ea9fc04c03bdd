import { QUEUES } from '../queues/catalog.js';
import type { JobModule } from '../queues/job-module.js';
import type { Producer } from '../queues/producer.js';
import type { SubmissionStore } from '../store/submissions/submission-store.js';
import type { SubmitJob, SubmitSettings } from './submit-job.js';
import { createSubmissionSweep } from './sweep.js';

/** Submissions are queued at once by the API; the sweep only finds those whose queued job was lost. */
const SUBMISSION_SWEEP_INTERVAL_MS = 10_000;

/**
 * BullMQ's lock on a submission in flight, renewed every 5 s while its worker lives, and how often a
 * lapsed lock is looked for: a worker that dies mid-upload has its attempt resumed 10–15 s later, not
 * the 30–60 s of BullMQ's defaults. Not shorter: a live worker whose lock lapsed (an event loop held
 * past the lock) would see its attempt started again beside it, and both could send the zip.
 */
const SUBMISSION_LOCK_MS = 10_000;
const SUBMISSION_STALLED_CHECK_MS = 5000;

/**
 * Submissions' queued work: uploads to Smile ID on a queue of their own (each holds its images in
 * memory while it runs; their calls take their place in the one Smile ID budget), and the sweep that
 * queues again those whose queued job was lost.
 */
export function submitJobs({
  producer,
  store,
  submit,
  settings: { concurrency, batchSize },
  now,
}: {
  producer: Pick<Producer<typeof QUEUES.submissions>, 'addBulk'>;
  store: Pick<SubmissionStore, 'claimDue'>;
  /** Null when no PUBLIC_CALLBACK_URL is configured: queued submissions wait for one. */
  submit: Pick<SubmitJob, 'run'> | null;
  settings: Pick<SubmitSettings, 'concurrency' | 'batchSize'>;
  now?: () => Date;
}): JobModule {
  const sweepSubmissions = createSubmissionSweep({ store, producer, batchSize, now });
  return {
    feature: 'submit',
    queues: {
      [QUEUES.submissions]: {
        concurrency,
        lockDuration: SUBMISSION_LOCK_MS,
        stalledInterval: SUBMISSION_STALLED_CHECK_MS,
      },
    },
    handlers: {
      submitJob: async ({ jobId }, { log }) => {
        if (submit) return submit.run(jobId, { log });
        log.warn({ jobId }, 'a submission waits: set PUBLIC_CALLBACK_URL so Smile ID can answer it');
        return 'not_configured';
      },
      sweepDueSubmissions: () => sweepSubmissions(),
    },
    schedules: { sweepDueSubmissions: { every: SUBMISSION_SWEEP_INTERVAL_MS } },
  };
}
