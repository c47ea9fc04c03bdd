import type { FeedChange, FeedPosition } from '../store/feed/change-feed.js';
import { END_NOTE_MS, endGroup, type LongPollState, readForGroup, type Watch } from './long-poll-group.js';
import { keyOf, shareReads } from './shared-reads.js';

/**
 * GET /v1/changes's reads and waits, shared by the requests at the same feed position, so that the
 * feed's cost follows the positions consumers wait at, not changes × consumers. Consumers that keep up
 * all wait at the feed's end: a change wakes one read for all of them, and the polls they make next,
 * at the new end, share one read too. Waits are capped per process.
 */

/**
 * Waiters are answered at most this often per process: the first change after a quiet spell at once,
 * changes that follow within it together. Each consumer then polls at most a few times a second however
 * fast changes come, so the HTTP work too follows consumers, not changes × consumers.
 */
export const ANSWER_INTERVAL_MS = 250;

export function createLongPolls({
  read,
  watch,
  maxWaiters,
  onRead,
  onWaiting,
  answerIntervalMs = ANSWER_INTERVAL_MS,
}: {
  read: LongPollState['read'];
  watch: Watch;
  answerIntervalMs?: number;
  /** CHANGE_FEED_MAX_WAITERS: waits held at once by this process. */
  maxWaiters: number;
  /** Counts each read of the feed actually made. */
  onRead?: () => void;
  /** Reports how many requests wait now. */
  onWaiting?: (waiting: number) => void;
}) {
  const polls: LongPollState = {
    read: shareReads(read, onRead),
    watch,
    maxWaiters,
    answerIntervalMs,
    onWaiting,
    groups: new Map(),
    ends: new Map(),
    waiting: 0,
    answeredAt: Number.NEGATIVE_INFINITY,
  };
  return {
    /**
     * Up to `limit` changes after `after`: what a read started after this call finds. With `until` and
     * nothing new, waits for changes until it aborts (then answers none); `busy` when `maxWaiters`
     * requests wait already.
     */
    changesAfter: (after: FeedPosition, limit: number, until?: AbortSignal): Promise<FeedChange[] | 'busy'> =>
      changesAfter(polls, after, limit, until),
  };
}

async function changesAfter(
  polls: LongPollState,
  after: FeedPosition,
  limit: number,
  until?: AbortSignal,
): Promise<FeedChange[] | 'busy'> {
  // Requests already wait here: their loop has read since every change signalled before its watch,
  // and reads again after any signalled since. Joining it costs no read: consumers that keep up come
  // back to the same new position together, after each change.
  if (until) {
    const key = keyOf(after, limit);
    if (polls.groups.has(key)) return wait(polls, after, limit, until, polls.watch());
    // The end of an answer: its read saw everything committed before its watch.
    const ended = polls.ends.get(key);
    if (ended && Date.now() - ended.at <= END_NOTE_MS) return wait(polls, after, limit, until, ended.since);
  }
  // Watched before the look, so that a change signalled between the look and the wait wakes it.
  const since = polls.watch();
  const items = await polls.read(after, limit);
  if (items.length > 0 || !until) return items;
  return wait(polls, after, limit, until, since);
}

/** Joins (or starts) the group at this position; see changesAfter. */
function wait(
  polls: LongPollState,
  after: FeedPosition,
  limit: number,
  until: AbortSignal,
  since: ReturnType<Watch>,
): Promise<FeedChange[]> | 'busy' {
  if (polls.waiting >= polls.maxWaiters) return 'busy';
  if (until.aborted) return Promise.resolve([]);
  const key = keyOf(after, limit);
  let group = polls.groups.get(key);
  if (!group) {
    group = { waiters: new Set(), idle: new AbortController() };
    polls.groups.set(key, group);
    void readForGroup(polls, key, group, after, limit, since);
  }
  const joined = group;
  polls.waiting += 1;
  polls.onWaiting?.(polls.waiting);
  return new Promise<FeedChange[]>((resolve, reject) => {
    const leave = () => {
      until.removeEventListener('abort', timedOut);
      joined.waiters.delete(waiter);
      polls.waiting -= 1;
      polls.onWaiting?.(polls.waiting);
      if (joined.waiters.size === 0) {
        endGroup(polls, key, joined);
        joined.idle.abort();
      }
    };
    // Answered once: by the group, by its deadline, or by a failure, whichever comes first.
    const waiter = {
      answer: (items: FeedChange[]) => {
        if (!joined.waiters.has(waiter)) return;
        leave();
        resolve(items);
      },
      fail: (error: unknown) => {
        if (!joined.waiters.has(waiter)) return;
        leave();
        reject(error);
      },
    };
    const timedOut = () => waiter.answer([]);
    joined.waiters.add(waiter);
    until.addEventListener('abort', timedOut, { once: true });
  });
}

export type LongPolls = ReturnType<typeof createLongPolls>;
