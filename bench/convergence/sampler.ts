import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BENCH_API_TOKEN } from '../shared/requests.js';
import type { ShownHistory } from './views.js';

/**
 * Samples the service the way a consumer would, once a second: `GET /v1/jobs?updatedSince=` from a
 * little before the previous sample, every page, so each job changed since then is seen.
 */

const SAMPLE_INTERVAL_MS = 1000;
/** Overlap with the previous sample, so a change written while it paged is not skipped. */
const OVERLAP_MS = 1000;
const PAGE_SIZE = 200;

const pageSchema = z.object({
  items: z.array(
    z.object({
      jobId: z.string(),
      state: z.string(),
      isFinal: z.boolean(),
      confirmed: z.boolean(),
      updatedAt: z.string(),
    }),
  ),
  nextCursor: z.string().nullable().optional(),
});

export interface SamplerFigures {
  samples: number;
  slowestMs: number;
}

export class Sampler {
  private readonly figures: SamplerFigures = { samples: 0, slowestMs: 0 };
  private running: Promise<void> | undefined;
  private stopped = false;
  private failure: unknown;

  constructor(
    private readonly serviceUrl: string,
    private readonly history: ShownHistory,
  ) {}

  /** Samples until `stop`, every change since `from` (epoch ms). */
  start(from: number): void {
    this.running = this.loop(from).catch((error: unknown) => {
      this.failure = error;
    });
  }

  /** A failed sample ends the run, since figures with a gap in them would be wrong. */
  assertSampling(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  async stop(): Promise<SamplerFigures> {
    this.stopped = true;
    await this.running;
    this.assertSampling();
    return this.figures;
  }

  /** One sample of every job, whenever it was updated: the final word. */
  sampleAll(): Promise<void> {
    return this.sample(undefined);
  }

  private async loop(from: number) {
    let since = from;
    while (!this.stopped) {
      const started = Date.now();
      await this.sample(since - OVERLAP_MS);
      since = started;
      const tookMs = Date.now() - started;
      this.figures.samples += 1;
      this.figures.slowestMs = Math.max(this.figures.slowestMs, tookMs);
      await sleep(Math.max(0, SAMPLE_INTERVAL_MS - tookMs));
    }
  }

  private async sample(updatedSince: number | undefined) {
    let cursor: string | null | undefined;
    do {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (updatedSince !== undefined) query.set('updatedSince', new Date(updatedSince).toISOString());
      if (cursor) query.set('cursor', cursor);
      const response = await fetch(`${this.serviceUrl}/v1/jobs?${query}`, {
        headers: { authorization: `Bearer ${BENCH_API_TOKEN}` },
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`GET /v1/jobs answered ${response.status}: ${text.slice(0, 300)}`);
      const page = pageSchema.parse(JSON.parse(text));
      const observedAt = Date.now();
      for (const item of page.items) this.history.observe(item, observedAt);
      cursor = page.nextCursor;
    } while (cursor);
  }
}
