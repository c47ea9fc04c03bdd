import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumersReport, ConsumersRequest } from './protocol.js';

/**
 * bench:feed's consumers, in a process of their own so that their work does not count as the service's:
 * each follows GET /v1/changes with `wait`, from the cursor it was last handed, as an internal service
 * would, until the parent says `stop`; then reports what each was handed.
 */

const request = JSON.parse(process.argv[2]!) as ConsumersRequest;
const stopping = new AbortController();
const report: ConsumersReport = {
  polls: 0,
  changes: [],
  distinctJobs: [],
  busy: 0,
  errors: 0,
  firstError: null,
};

interface Page {
  items: { jobId: string }[];
  nextCursor: string;
}

async function consume(index: number): Promise<void> {
  let after = request.after;
  const jobs = new Set<string>();
  report.changes[index] = 0;
  while (!stopping.signal.aborted) {
    try {
      const response = await fetch(
        `${request.url}/v1/changes?after=${after}&wait=${request.waitSeconds}&limit=100`,
        { headers: { authorization: `Bearer ${request.token}` }, signal: stopping.signal },
      );
      report.polls += 1;
      if (response.status === 429) {
        // Too many waits in the service (CHANGE_FEED_BUSY) is its cap at work; a rate limit is an error.
        const { error } = (await response.json()) as { error: { code: string } };
        if (error.code !== 'CHANGE_FEED_BUSY') throw new Error(`GET /v1/changes answered 429 ${error.code}`);
        report.busy += 1;
        await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000, undefined, {
          signal: stopping.signal,
        });
        continue;
      }
      if (response.status !== 200) throw new Error(`GET /v1/changes answered ${response.status}`);
      const page = (await response.json()) as Page;
      report.changes[index]! += page.items.length;
      for (const item of page.items) jobs.add(item.jobId);
      report.distinctJobs[index] = jobs.size;
      after = page.nextCursor;
    } catch (error) {
      if (stopping.signal.aborted) break;
      report.errors += 1;
      report.firstError ??= error instanceof Error ? error.message : String(error);
      await sleep(1000);
    }
  }
  report.distinctJobs[index] = jobs.size;
}

const consumers = Array.from({ length: request.consumers }, (_, index) => consume(index));
process.on('message', async (message) => {
  if (message !== 'stop') return;
  stopping.abort();
  await Promise.allSettled(consumers);
  process.send?.(report, () => process.exit(0));
});
