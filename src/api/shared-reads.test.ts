import { describe, expect, it } from 'vitest';
import type { FeedChange, FeedPosition } from '../store/feed/change-feed.js';
import { shareReads } from './shared-reads.js';

/** A feed whose reads the test finishes by hand, counting them. */
function heldFeed() {
  const started: { after: FeedPosition; finish: (items: FeedChange[]) => void }[] = [];
  const read = (after: FeedPosition) =>
    new Promise<FeedChange[]>((resolve) => started.push({ after, finish: resolve }));
  return { read, started };
}

const at = (id: string): FeedPosition => ({ xid: '5', id });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('shareReads', () => {
  it('answers every caller at a position that asked before its read started with that one read', async () => {
    const feed = heldFeed();
    const reads = shareReads(feed.read);
    const answers = Array.from({ length: 50 }, () => reads(at('1'), 100));
    await turn();
    expect(feed.started).toHaveLength(1);
    feed.started[0]!.finish([]);
    expect(await Promise.all(answers)).toHaveLength(50);
    expect(feed.started).toHaveLength(1);
  });

  it('gives a caller who asks while a read runs the next read, shared with everyone who asks meanwhile', async () => {
    const feed = heldFeed();
    const reads = shareReads(feed.read);
    const first = reads(at('1'), 100);
    await turn();
    const later = [reads(at('1'), 100), reads(at('1'), 100)];
    await turn();
    // Not the running read, which may have started before what these callers wait to see.
    expect(feed.started).toHaveLength(1);
    feed.started[0]!.finish([]);
    await first;
    await turn();
    expect(feed.started).toHaveLength(2);
    feed.started[1]!.finish([]);
    await Promise.all(later);
    expect(feed.started).toHaveLength(2);
  });

  it('reads each position, and each page size, on its own', async () => {
    const feed = heldFeed();
    const reads = shareReads(feed.read);
    const answers = [reads(at('1'), 100), reads(at('2'), 100), reads(at('1'), 10)];
    await turn();
    expect(feed.started).toHaveLength(3);
    for (const read of feed.started) read.finish([]);
    await Promise.all(answers);
  });
});
