import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ChangeFeed, FeedChange, FeedPosition } from '../store/feed/change-feed.js';
import { keyOf } from './shared-reads.js';

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
/** How long the end of an answer is remembered for the consumers coming back to it: seconds at most. */
export const END_NOTE_MS = 10_000;

export type Watch = () => (until: AbortSignal) => Promise<void>;

/** The requests waiting at one position, and the one loop that reads the feed for them. */
export interface Group {
  waiters: Set<{ answer: (items: FeedChange[]) => void; fail: (error: unknown) => void }>;
  /** Aborted when the last waiter has gone. */
  idle: AbortController;
}

/** One process's long polls: what they read and watch with, and the groups and counts they share. */
export interface LongPollState {
  /** The feed's read, shared by the requests at the same position. */
  read: ChangeFeed['read'];
  watch: Watch;
  maxWaiters: number;
  answerIntervalMs: number;
  onWaiting: ((waiting: number) => void) | undefined;
  groups: Map<string, Group>;
  /**
   * Positions an answer ended at, when that answer held everything its read found: with the watch taken
   * before that read. Consumers come back there; the first to wait starts its group from that watch
   * instead of a read of its own, so the others find a group to join, not a read each.
   */
  ends: Map<string, { since: ReturnType<Watch>; at: number }>;
  waiting: number;
  answeredAt: number;
}

/** Reads for a group until it has something to answer, or nobody waits any more. */
export async function readForGroup(
  polls: LongPollState,
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
      const gatherMs = polls.answeredAt + polls.answerIntervalMs - Date.now();
      if (gatherMs > 0)
        // Rejects only when the group goes idle, which the next line looks at.
        await sleep(gatherMs, undefined, { signal: group.idle.signal }).catch(() => undefined);
      if (group.waiters.size === 0) return;
      changed = polls.watch();
      const items = await polls.read(after, limit);
      if (items.length > 0) {
        endGroup(polls, key, group);
        polls.answeredAt = Date.now();
        if (items.length < limit) noteEnd(polls, keyOf(items.at(-1)!.position, limit), changed);
        await answerAll(group, items);
        return;
      }
      // Woken, yet nothing listed: a transaction of this database that began before the change still
      // runs. Its end sends no signal unless it changed a job, so look again, less and less often.
      if (!idleLook) lookAgainMs = Math.min(MAX_LOOK_AGAIN_MS, Math.max(MIN_LOOK_AGAIN_MS, lookAgainMs * 2));
    }
  } catch (error) {
    endGroup(polls, key, group);
    for (const waiter of [...group.waiters]) waiter.fail(error);
  }
}

/** Answers the group's waiters a batch per turn of the event loop. */
async function answerAll(group: Group, items: FeedChange[]) {
  const waiters = [...group.waiters];
  for (let start = 0; start < waiters.length; start += ANSWER_BATCH) {
    if (start > 0) await nextTurn();
    for (const waiter of waiters.slice(start, start + ANSWER_BATCH)) waiter.answer(items);
  }
}

export function endGroup(polls: LongPollState, key: string, group: Group) {
  if (polls.groups.get(key) === group) polls.groups.delete(key);
}

function noteEnd(polls: LongPollState, key: string, since: ReturnType<Watch>) {
  const now = Date.now();
  for (const [ended, note] of polls.ends) if (now - note.at > END_NOTE_MS) polls.ends.delete(ended);
  polls.ends.set(key, { since, at: now });
}
