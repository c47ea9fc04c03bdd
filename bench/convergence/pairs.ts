import { setTimeout as sleep } from 'node:timers/promises';

/**
 * (timestamp, signature) pairs seen on genuine callbacks, as anyone on their path sees them. The
 * signature covers only the timestamp and the partner id, so a pair taken from one job's callback
 * verifies on a body made up for any other job.
 */

export interface CapturedPair {
  jobId: string;
  timestamp: string;
  signature: string;
}

/** Enough to always hold a recent pair from some other job. */
const KEPT = 100;
const WAIT_STEP_MS = 200;

export class CapturedPairs {
  private readonly pairs: CapturedPair[] = [];

  add(pair: CapturedPair): void {
    this.pairs.push(pair);
    if (this.pairs.length > KEPT) this.pairs.shift();
  }

  /** The latest pair captured from another job than `jobId`, waiting up to `timeoutMs` for one. */
  async fromAnotherJob(jobId: string, timeoutMs: number): Promise<CapturedPair | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pair = this.pairs.findLast((each) => each.jobId !== jobId);
      if (pair || Date.now() >= deadline) return pair;
      await sleep(WAIT_STEP_MS);
    }
  }
}
