import { EventEmitter, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { FeedChange, FeedPosition } from '../store/feed/change-feed.js';
import { createLongPolls } from './long-polls.js';

/** A feed in memory, counting its reads, with a signal like store/feed/change-feed.ts's. */
function memoryFeed() {
  const changes: FeedChange[] = [];
  const signals = new EventEmitter();
  let generation = 0;
  let reads = 0;
  const after = (position: FeedPosition) =>
    changes.filter((change) => Number(change.position.id) > Number(position.id));
  return {
    reads: () => reads,
    read: async (position: FeedPosition, limit: number) => {
      reads += 1;
      return after(position).slice(0, limit);
    },
    watch: () => {
      const seen = generation;
      return async (until: AbortSignal) => {
        if (generation !== seen) return;
        await once(signals, 'change', { signal: until }).catch(() => undefined);
      };
    },
    commit(jobId: string) {
      const id = String(changes.length + 1);
      changes.push({ position: { xid: id, id }, jobId } as FeedChange);
      generation += 1;
      signals.emit('change');
    },
  };
}

const START: FeedPosition = { xid: '0', id: '0' };
const seconds = (count: number) => AbortSignal.timeout(count * 1000);
const jobsOf = (answer: FeedChange[] | 'busy') => (answer === 'busy' ? 'busy' : answer.map((c) => c.jobId));

describe('long polls', () => {
  it('answers the first change after a quiet spell at once, and those that follow within the interval together', async () => {
    const feed = memoryFeed();
    const polls = createLongPolls({ ...feed, maxWaiters: 10, answerIntervalMs: 1000 });
    const first = polls.changesAfter(START, 100, seconds(5));
    setTimeout(() => feed.commit('a'), 20);
    let startedAt = Date.now();
    expect(jobsOf(await first)).toEqual(['a']);
    expect(Date.now() - startedAt).toBeLessThan(800);

    const next = polls.changesAfter({ xid: '1', id: '1' }, 100, seconds(5));
    startedAt = Date.now();
    setTimeout(() => feed.commit('b'), 10);
    setTimeout(() => feed.commit('c'), 60);
    expect(jobsOf(await next)).toEqual(['b', 'c']);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(800);
  });

  it('lets requests coming back to where an answer ended wait there without reading', async () => {
    const feed = memoryFeed();
    const polls = createLongPolls({ ...feed, maxWaiters: 100, answerIntervalMs: 0 });
    const waiting = Array.from({ length: 20 }, () => polls.changesAfter(START, 100, seconds(5)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    feed.commit('a');
    for (const answer of await Promise.all(waiting)) expect(jobsOf(answer)).toEqual(['a']);
    const readsBefore = feed.reads();
    const back = Array.from({ length: 20 }, () => polls.changesAfter({ xid: '1', id: '1' }, 100, seconds(5)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(feed.reads()).toBe(readsBefore);
    feed.commit('b');
    for (const answer of await Promise.all(back)) expect(jobsOf(answer)).toEqual(['b']);
    expect(feed.reads()).toBe(readsBefore + 1);
  });

  it('answers busy past its waiters, and nothing once a wait ends', async () => {
    const feed = memoryFeed();
    const polls = createLongPolls({ ...feed, maxWaiters: 2 });
    const held = [polls.changesAfter(START, 100, seconds(0.2)), polls.changesAfter(START, 100, seconds(0.2))];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await polls.changesAfter(START, 100, seconds(1))).toBe('busy');
    // Without a wait, still a look at the feed.
    expect(await polls.changesAfter(START, 100)).toEqual([]);
    expect((await Promise.all(held)).map(jobsOf)).toEqual([[], []]);
    expect(jobsOf(await polls.changesAfter(START, 100, seconds(0.05)))).toEqual([]);
  });
});
