import type { ChangeFeed, FeedChange, FeedPosition } from '../store/feed/change-feed.js';

type Read = ChangeFeed['read'];

/** Requests share reads and waits when they ask for the same page: the same position and size. */
export const keyOf = (after: FeedPosition, limit: number) => `${after.xid}:${after.id}:${limit}`;

/**
 * Reads that answer every caller at the same position that asked before the read started: as fresh as
 * a read of one's own, yet at most one read in flight and one waiting to start per position.
 */
export function shareReads(read: Read, counted: () => void = () => undefined): Read {
  const next = new Map<string, Promise<FeedChange[]>>();
  const running = new Map<string, Promise<FeedChange[]>>();
  return (after, limit) => {
    const key = keyOf(after, limit);
    const queued = next.get(key);
    if (queued) return queued;
    const start = () => {
      next.delete(key);
      counted();
      const reading = read(after, limit);
      running.set(key, reading);
      const settled = () => {
        if (running.get(key) === reading) running.delete(key);
      };
      reading.then(settled, settled);
      return reading;
    };
    // Always a turn later: callers of this same turn join it, and `next` is set before it starts.
    const previous = running.get(key);
    const queuedRead = previous ? previous.then(start, start) : Promise.resolve().then(start);
    next.set(key, queuedRead);
    return queuedRead;
  };
}
