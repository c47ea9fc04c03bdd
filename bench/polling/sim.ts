import { emptyEvidence, type HeldResult } from '../../src/domain/evidence.js';
import { checkAfterCallback, nextCheck, type PollModel } from '../../src/domain/poll-schedule.js';

/**
 * A week of jobs on a virtual clock: arrivals with a daily peak, Smile ID's decisions (by machine in
 * seconds, or by a human reviewer in minutes to hours), callbacks lost at a given rate, and the service
 * checking job_status under a budget of calls per second in priority order. No real waiting: one tick
 * is one simulated second. The schedule under test is a function, so today's and the new one run the
 * same world.
 */

const SECOND = 1000;
const DAY = 86_400 * SECOND;

export interface World {
  days: number;
  jobsPerDay: number;
  /** Share of jobs that go to human review. */
  reviewShare: number;
  /** Median review time and the spread of its log-normal distribution (sigma of ln). */
  reviewMedianMs: number;
  reviewSigma: number;
  /** Probability that any one callback never arrives. */
  lossRate: number;
  /** Calls per second to Smile ID. */
  budgetPerSecond: number;
  seed: number;
}

/** A schedule: when to check next after a check, and after a callback. */
export interface Schedule {
  name: string;
  afterCheck: (job: SimJob, now: number) => number | null;
  /** Whether due checks run in priority order (confirmations first) or first due, first served. */
  prioritised: boolean;
}

export interface SimJob {
  id: string;
  registeredAt: number;
  /** When Smile ID's first result exists (provisional for reviewed jobs, else final). */
  decidedAt: number;
  /** When the final result exists. */
  finalAt: number;
  reviewed: boolean;
  /** What the service knows. */
  statusSaidReview: boolean;
  claimFinalAt: number | null;
  confirmedAt: number | null;
  finalCallbackArrived: boolean;
  lastCheckAt: number | null;
  lastEventAt: number | null;
  nextCheckAt: number | null;
  calls: number;
}

export interface Figures {
  jobs: number;
  callsPerJob: number;
  lagArrived: { p50: number; p99: number };
  lagLost: { p50: number; p99: number };
  peakCallsPerSecond: number;
  unconfirmed: number;
}

/** Mulberry32: the same world every run for a seed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** The jobs of a world: arrival times follow a daily curve peaking mid-day at 1.8× the mean. */
export function createJobs(world: World): SimJob[] {
  const next = random(world.seed);
  const jobs: SimJob[] = [];
  const total = Math.round(world.jobsPerDay * world.days);
  for (let index = 0; index < total; index += 1) {
    // Rejection sampling of the daily curve 1 - 0.8 cos(2π t / day).
    let at = 0;
    for (;;) {
      at = next() * world.days * DAY;
      const weight = (1 - 0.8 * Math.cos((2 * Math.PI * (at % DAY)) / DAY)) / 1.8;
      if (next() < weight) break;
    }
    const decidedAt = at + 3 * SECOND + next() * 17 * SECOND;
    const reviewed = next() < world.reviewShare;
    const reviewMs = reviewed
      ? Math.min(2 * DAY, world.reviewMedianMs * Math.exp(world.reviewSigma * gaussian(next)))
      : 0;
    jobs.push({
      id: `job-${index}`,
      registeredAt: at,
      decidedAt,
      finalAt: decidedAt + reviewMs,
      reviewed,
      statusSaidReview: false,
      claimFinalAt: null,
      confirmedAt: null,
      finalCallbackArrived: false,
      lastCheckAt: null,
      lastEventAt: null,
      nextCheckAt: null,
      calls: 0,
    });
  }
  return jobs.sort((a, b) => a.registeredAt - b.registeredAt);
}

/** A queue of job indexes that does not copy on every shift. */
class Fifo {
  private items: number[] = [];
  private head = 0;
  get size() {
    return this.items.length - this.head;
  }
  push(item: number) {
    this.items.push(item);
  }
  shift(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** A tiny binary heap of [time, job index]. */
class Heap {
  private items: [number, number][] = [];
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(item: [number, number]) {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (items[parent]![0] <= item[0]) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = item;
  }
  pop(): [number, number] | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < items.length && items[left]![0] < (smallest === index ? last[0] : items[smallest]![0]))
          smallest = left;
        if (right < items.length && items[right]![0] < (smallest === index ? last[0] : items[smallest]![0]))
          smallest = right;
        if (smallest === index) break;
        items[index] = items[smallest]!;
        index = smallest;
      }
      items[index] = last;
    }
    return top;
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** Runs one schedule over one world; the jobs are copied, so worlds can be reused. */
export function simulate(world: World, template: readonly SimJob[], schedule: Schedule): Figures {
  const jobs = template.map((job) => ({ ...job }));
  const lose = random(world.seed ^ 0x5eed);
  // Events: callbacks arriving (kind 0 provisional, 1 final) and checks coming due.
  const callbacks = new Heap();
  const due = new Heap();
  for (const [index, job] of jobs.entries()) {
    // A registered job is first checked as the schedule says for a silent job.
    job.nextCheckAt = schedule.afterCheck(job, job.registeredAt);
    if (job.nextCheckAt !== null) due.push([job.nextCheckAt, index]);
    const firstArrives = lose() >= world.lossRate;
    const finalArrives = lose() >= world.lossRate;
    if (job.reviewed && firstArrives) callbacks.push([job.decidedAt + 500, index * 2]);
    if (finalArrives) callbacks.push([job.finalAt + 500, index * 2 + 1]);
  }
  const end = world.days * DAY + 3 * DAY;
  let peak = 0;
  // Checks due but not yet run, waiting for the budget: confirmations of a fresh callback, and the rest.
  const confirming = new Fifo();
  const blind = new Fifo();
  for (let now = 0; now < end; now += SECOND) {
    for (let next = callbacks.peek(); next && next[0] <= now; next = callbacks.peek()) {
      callbacks.pop();
      const job = jobs[next[1] >> 1]!;
      const final = (next[1] & 1) === 1;
      if (job.confirmedAt !== null) continue;
      job.lastEventAt = next[0];
      if (final) {
        job.finalCallbackArrived = true;
        job.claimFinalAt = next[0];
      }
      const soon = checkAfterCallback(
        { isFinal: final, confirmed: false },
        toDate(job.nextCheckAt),
        new Date(now),
      );
      const at = soon?.getTime() ?? null;
      if (at !== null && at !== job.nextCheckAt) {
        job.nextCheckAt = at;
        due.push([at, next[1] >> 1]);
      }
    }
    for (let next = due.peek(); next && next[0] <= now; next = due.peek()) {
      due.pop();
      const job = jobs[next[1]]!;
      // A stale entry (rescheduled since) or a job already settled.
      if (job.nextCheckAt !== next[0] || job.confirmedAt !== null) continue;
      job.nextCheckAt = null;
      const confirms =
        schedule.prioritised &&
        job.lastEventAt !== null &&
        (job.lastCheckAt === null || job.lastEventAt > job.lastCheckAt);
      (confirms ? confirming : blind).push(next[1]);
    }
    const running: number[] = [];
    while (running.length < world.budgetPerSecond && confirming.size > 0) running.push(confirming.shift()!);
    while (running.length < world.budgetPerSecond && blind.size > 0) running.push(blind.shift()!);
    peak = Math.max(peak, running.length);
    for (const index of running) {
      const job = jobs[index]!;
      job.calls += 1;
      job.lastCheckAt = now;
      if (now >= job.finalAt) {
        job.confirmedAt = now;
        continue;
      }
      if (now >= job.decidedAt && job.reviewed) job.statusSaidReview = true;
      job.nextCheckAt = schedule.afterCheck(job, now);
      if (job.nextCheckAt !== null) due.push([job.nextCheckAt, index]);
    }
  }
  const lag = (arrived: boolean) =>
    jobs
      .filter((job) => job.finalCallbackArrived === arrived && job.confirmedAt !== null)
      .map((job) => (job.confirmedAt! - job.finalAt) / SECOND)
      .sort((a, b) => a - b);
  const arrived = lag(true);
  const lost = lag(false);
  return {
    jobs: jobs.length,
    callsPerJob: jobs.reduce((total, job) => total + job.calls, 0) / jobs.length,
    lagArrived: { p50: percentile(arrived, 0.5), p99: percentile(arrived, 0.99) },
    lagLost: { p50: percentile(lost, 0.5), p99: percentile(lost, 0.99) },
    peakCallsPerSecond: peak,
    unconfirmed: jobs.filter((job) => job.confirmedAt === null).length,
  };
}

const toDate = (at: number | null) => (at === null ? null : new Date(at));

/** The service's schedule (src/domain/poll-schedule.ts) under a model. */
export function serviceSchedule(model: PollModel): Schedule {
  const review: HeldResult = {
    facet: {
      slot: 'result',
      final: false,
      smileJobId: null,
      state: 'provisional',
      resultCode: '0814',
      resultText: null,
      actions: {},
    },
    rank: { final: false, authority: 'job_status', at: 0, hash: 'h' },
    receivedAt: 0,
  };
  return {
    name: 'new',
    prioritised: true,
    afterCheck(job, now) {
      const evidence = job.statusSaidReview ? { ...emptyEvidence(), status: review } : emptyEvidence();
      const next = nextCheck(
        { jobId: job.id, isFinal: false, confirmed: false, tracked: true, evidence },
        new Date(job.registeredAt),
        new Date(now),
        model,
      );
      return 'at' in next ? next.at.getTime() : null;
    },
  };
}

/** The schedule before this change: fixed phases by age, first due first served. */
export function previousSchedule(horizonMs: number): Schedule {
  const MINUTE = 60 * SECOND;
  const HOUR = 60 * MINUTE;
  const phases = [
    { untilAgeMs: 1 * MINUTE, intervalMs: 3 * SECOND },
    { untilAgeMs: 10 * MINUTE, intervalMs: 30 * SECOND },
    { untilAgeMs: 1 * HOUR, intervalMs: 2 * MINUTE },
    { untilAgeMs: 6 * HOUR, intervalMs: 10 * MINUTE },
    { untilAgeMs: 48 * HOUR, intervalMs: 30 * MINUTE },
    { untilAgeMs: Number.POSITIVE_INFINITY, intervalMs: 2 * HOUR },
  ];
  return {
    name: 'today',
    prioritised: false,
    afterCheck(job, now) {
      const age = now - job.registeredAt;
      if (age >= horizonMs) return null;
      const phase = phases.find((candidate) => age < candidate.untilAgeMs)!;
      return Math.min(now + phase.intervalMs, job.registeredAt + horizonMs);
    },
  };
}
