/**
 * What the service showed for each job over time, as the bench's samples saw it: one entry each time
 * (state, isFinal, confirmed) changed, dated by the job's `updatedAt` (when the service changed it),
 * never later than the sample that first saw it.
 */

export interface ShownView {
  jobId: string;
  state: string;
  isFinal: boolean;
  confirmed: boolean;
  updatedAt: string;
}

export interface Shown {
  state: string;
  isFinal: boolean;
  confirmed: boolean;
  /** Epoch ms. */
  since: number;
}

export class ShownHistory {
  private readonly byJob = new Map<string, Shown[]>();

  observe(view: ShownView, observedAt: number): void {
    const entries = this.byJob.get(view.jobId) ?? [];
    const last = entries.at(-1);
    if (
      last &&
      last.state === view.state &&
      last.isFinal === view.isFinal &&
      last.confirmed === view.confirmed
    ) {
      return;
    }
    // updatedAt moves on with any change to the job, so it may come after the change of interest, yet
    // never after the sample that saw it; nor before what was shown earlier.
    const since = Math.max(last?.since ?? 0, Math.min(Date.parse(view.updatedAt), observedAt));
    entries.push({ state: view.state, isFinal: view.isFinal, confirmed: view.confirmed, since });
    this.byJob.set(view.jobId, entries);
  }

  entries(jobId: string): readonly Shown[] {
    return this.byJob.get(jobId) ?? [];
  }

  latest(jobId: string): Shown | undefined {
    return this.byJob.get(jobId)?.at(-1);
  }
}
