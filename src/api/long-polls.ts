import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ChangeFeed, FeedChange, FeedPosition } from '../store/feed/change-feed.js';
import { keyOf, shareReads } from './shared-reads.js';

/**
 * GET /v1/changes's reads and waits, shared by the requests at the same feed position, so that the
 * feed's cost follows the positions consumers wait at, not changes × consumers. Consumers that keep up
 * all wait at the feed's end: a change wakes one read for all of them, and the polls they make next,
 * at the new end, share one read too. Waits are capped per process.
 */

/** Woken by a commit the horizon still hides, look again after this long, doubling up to the maximum. */
const MIN_LOOK_AGAIN_MS = 50;
const MAX_LOOK_AGAIN_MS = 1000;
/**
 * Without any signal, look this often all the same: a change hidden when it was signalled, behind a
 * transaction whose end signals nothing (it changed no job), is then found within seconds, not at the
 * end of the wait.
 */
const IDLE_LOOK_MS = 5000;
/** Waiters answered per turn of the event loop: a callback arriving meanwhile waits for a batch, not all. */
const ANSWER_BATCH = 8;
/**
 * Waiters are answered at most this often per process: the first change after a quiet spell at once,
 * changes that follow within it together. Each consumer then polls at most a few times a second however
 * fast changes come, so the HTTP work too follows consumers, not changes × consumers.
 */
export const ANSWER_INTERVAL_MS = 250;
/** How long the end of an answer is remembered for the consumers coming back to it: seconds at most. */
const END_NOTE_MS = 10_000;

type Watch = () => (until: AbortSignal) => Promise<void>;

/** The requests waiting at one position, and the one loop that reads the feed for them. */
interface Group {
  waiters: Set<{ answer: (items: FeedChange[]) => void; fail: (error: unknown) => void }>;
  /** Aborted when the last waiter has gone. */
  idle: AbortController;
}

export function createLongPolls({
  read,
  watch,
  maxWaiters,
  onRead,
  onWaiting,
  answerIntervalMs = ANSWER_INTERVAL_MS,
}: {
  read: ChangeFeed['read'];
  watch: Watch;
  answerIntervalMs?: number;
  /** CHANGE_FEED_MAX_WAITERS: waits held at once by this process. */
  maxWaiters: number;
  /** Counts each read of the feed actually made. */
  onRead?: () => void;
  /** Reports how many requests wait now. */
  onWaiting?: (waiting: number) => void;
}) {
  const sharedRead = shareReads(read, onRead);
  const groups = new Map<string, Group>();
  let waiting = 0;
  let answeredAt = Number.NEGATIVE_INFINITY;
  /**
   * Positions an answer ended at, when that answer held everything its read found: with the watch taken
   * before that read. Consumers come back there; the first to wait starts its group from that watch
   * instead of a read of its own, so the others find a group to join, not a read each.
   */
  const ends = new Map<string, { since: ReturnType<Watch>; at: number }>();

  function noteEnd(key: string, since: ReturnType<Watch>) {
    const now = Date.now();
    for (const [ended, note] of ends) if (now - note.at > END_NOTE_MS) ends.delete(ended);
    ends.set(key, { since, at: now });
  }

  /** Reads for a group until it has something to answer, or nobody waits any more. */
  async function run(
    key: string,
    group: Group,
    after: FeedPosition,
    limit: number,
    first: ReturnType<Watch>,
  ) {
    let changed = first;
    // 0 until a signalled change was not found: then looks come sooner, backing off.
    let lookAgainMs = 0;
    try {
      for (;;) {
        const timer = AbortSignal.timeout(lookAgainMs || IDLE_LOOK_MS);
        await changed(AbortSignal.any([group.idle.signal, timer]));
        const idleLook = lookAgainMs === 0 && timer.aborted;
        const gatherMs = answeredAt + answerIntervalMs - Date.now();
        if (gatherMs > 0)
          await sleep(gatherMs, undefined, { signal: group.idle.signal }).catch(() => undefined);
        if (group.waiters.size === 0) return;
        changed = watch();
        const items = await sharedRead(after, limit);
        if (items.length > 0) {
          end(key, group);
          answeredAt = Date.now();
          if (items.length < limit) noteEnd(keyOf(items.at(-1)!.position, limit), changed);
          const waiters = [...group.waiters];
          for (let start = 0; start < waiters.length; start += ANSWER_BATCH) {
            if (start > 0) await nextTurn();
            for (const waiter of waiters.slice(start, start + ANSWER_BATCH)) waiter.answer(items);
          }
          return;
        }
        // Woken, yet nothing listed: a transaction of this database that began before the change still
        // runs. Its end sends no signal unless it changed a job, so look again, less and less often.
        if (!idleLook)
          lookAgainMs = Math.min(MAX_LOOK_AGAIN_MS, Math.max(MIN_LOOK_AGAIN_MS, lookAgainMs * 2));
      }
    } catch (error) {
      end(key, group);
      for (const waiter of [...group.waiters]) waiter.fail(error);
    }
  }

  function end(key: string, group: Group) {
    if (groups.get(key) === group) groups.delete(key);
  }

  /** Joins (or starts) the group at this position; see changesAfter. */
  function wait(
    after: FeedPosition,
    limit: number,
    until: AbortSignal,
    since: ReturnType<Watch>,
  ): Promise<FeedChange[]> | 'busy' {
    if (waiting >= maxWaiters) return 'busy';
    if (until.aborted) return Promise.resolve([]);
    const key = keyOf(after, limit);
    let group = groups.get(key);
    if (!group) {
      group = { waiters: new Set(), idle: new AbortController() };
      groups.set(key, group);
      void run(key, group, after, limit, since);
    }
    const joined = group;
    waiting += 1;
    onWaiting?.(waiting);
    return new Promise<FeedChange[]>((resolve, reject) => {
      const leave = () => {
        until.removeEventListener('abort', timedOut);
        joined.waiters.delete(waiter);
        waiting -= 1;
        onWaiting?.(waiting);
        if (joined.waiters.size === 0) {
          end(key, joined);
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

  return {
    /**
     * Up to `limit` changes after `after`: what a read started after this call finds. With `until` and
     * nothing new, waits for changes until it aborts (then answers none); `busy` when `maxWaiters`
     * requests wait already.
     */
    async changesAfter(
      after: FeedPosition,
      limit: number,
      until?: AbortSignal,
    ): Promise<FeedChange[] | 'busy'> {
      // Requests already wait here: their loop has read since every change signalled before its watch,
      // and reads again after any signalled since. Joining it costs no read: consumers that keep up come
      // back to the same new position together, after each change.
      if (until) {
        const key = keyOf(after, limit);
        if (groups.has(key)) return wait(after, limit, until, watch());
        // The end of an answer: its read saw everything committed before its watch.
        const ended = ends.get(key);
        if (ended && Date.now() - ended.at <= END_NOTE_MS) return wait(after, limit, until, ended.since);
      }
      // Watched before the look, so that a change signalled between the look and the wait wakes it.
      const since = watch();
      const items = await sharedRead(after, limit);
      if (items.length > 0 || !until) return items;
      return wait(after, limit, until, since);
    },
  };
}

export type LongPolls = ReturnType<typeof createLongPolls>;
