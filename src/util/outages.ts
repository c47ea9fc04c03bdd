import type { FastifyBaseLogger } from 'fastify';
import { SOCKET_ERROR_CODES } from './socket-errors.js';

/** A dependency as an operator knows it: what, where, set by which variable, and what to try. */
export interface Dependency {
  /** `Redis` */
  name: string;
  /** host:port, never credentials. */
  address: string;
  /** The environment variable that sets the address. */
  variable: string;
  /** What to try, in words: how to start it, or where to point the variable. */
  remedy: string;
}

/** A connection whose `ready` may end an outage, as ioredis's are. */
export interface WatchedConnection {
  readonly status: string;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** Errors that say the dependency cannot be reached (or refuses us) rather than that something else failed. */
const UNREACHABLE_CODES = new Set([
  ...SOCKET_ERROR_CODES,
  // Postgres: shutting down or restarting (57P01, 57P03), and a login it refuses (28000, 28P01).
  '57P01',
  '57P03',
  '28000',
  '28P01',
]);
const UNREACHABLE_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|Connection is closed|Stream isn't writeable|max retries per request|Connection terminated|^(?:NOAUTH|WRONGPASS)/i;

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.test(error.message)
  );
}

/**
 * The error to stop a start with when `error` says `dependency` cannot be reached: which dependency, at
 * which address, and what to try, rather than a bare `connect ECONNREFUSED 127.0.0.1:5432`. Any other
 * error is answered as it is.
 */
export function explainUnreachable(error: unknown, dependency: Dependency): unknown {
  if (!isUnreachable(error)) return error;
  const { name, address, remedy } = dependency;
  return new Error(`${name} at ${address} is unreachable (${(error as Error).message}); ${remedy}`, {
    cause: error,
  });
}

/**
 * How often, during an outage, the watched connections are looked at for one that came back quietly, and
 * so how long they must all stay ready before their return is said.
 */
const LOOK_INTERVAL_MS = 1000;

/**
 * Says once that a dependency went away and once that it is back, however many connections, queues and
 * workers use it: each of them reports every failed reconnect as an error (for Redis, about twenty a
 * second, each with a stack trace, from one worker process). An outage is the time from the first error
 * that says the dependency cannot be reached until every watched connection is ready again and has
 * stayed so, with no such error from anything, until the next look a whole interval later: connections
 * ready for a moment while others still fail are not a recovery, and saying one would say the same
 * outage twice. The errors between are counted, not logged. Such an error while every watched connection is still ready (one
 * socket noticing first) waits a look to see whether the others follow. Any other error is logged every
 * time, with its stack. A dependency reached by calls rather than connections reports each call instead
 * (`unanswered`, `answered`).
 */
export function createOutageReporter({
  log,
  dependency,
  now = Date.now,
  lookIntervalMs = LOOK_INTERVAL_MS,
}: {
  log: FastifyBaseLogger;
  dependency: Dependency;
  now?: () => number;
  lookIntervalMs?: number;
}) {
  const { name, address, variable } = dependency;
  const fields = { dependency: name.toLowerCase(), address, variable };
  const connections = new Set<{ readonly status: string }>();
  /**
   * A dependency reached by calls rather than a connection (the object store, over HTTP) is watched as one
   * connection made of its calls: unready from a call that could not reach it until one that did.
   */
  const calls = { status: 'ready' };
  /** Errors not said yet: the first one's time and reason, and how many since. */
  let suspected: { since: number; errors: number; reason: string } | undefined;
  /** Said; `readySince`: every watched connection has been ready since then, a recovery not said yet. */
  let outage: { since: number; errors: number; readySince?: number } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const allReady = () =>
    connections.size > 0 && [...connections].every((connection) => connection.status === 'ready');

  function startLooking() {
    clearInterval(timer);
    timer = setInterval(look, lookIntervalMs);
    timer.unref();
  }

  function stopLooking() {
    clearInterval(timer);
    timer = undefined;
  }

  function begin(first: { since: number; errors: number; reason: string }) {
    suspected = undefined;
    outage = { since: first.since, errors: first.errors };
    log.error(
      { ...fields, reason: first.reason },
      `${name} at ${address} is unreachable (${first.reason}); ${dependency.remedy}`,
    );
  }

  /** Every watched connection is ready: the recovery is said at the look a whole interval from now. */
  function holdRecovery() {
    if (!outage || outage.readySince !== undefined || !allReady()) return;
    outage.readySince = now();
    startLooking();
  }

  /** Says the recovery held since the last look, unless a connection has gone away again meanwhile. */
  function recover() {
    if (outage?.readySince === undefined) return;
    if (!allReady()) {
      outage.readySince = undefined;
      return;
    }
    const { since, errors, readySince } = outage;
    outage = undefined;
    const downSeconds = Math.round((readySince - since) / 1000);
    log.info(
      { ...fields, downSeconds, errors },
      `${name} at ${address} is reachable again after ${downSeconds} s`,
    );
  }

  /** While anything is under way: a connection may come back without a `ready` of its own. */
  function look() {
    if (suspected && !allReady()) begin(suspected);
    if (suspected) {
      log.warn(
        { ...fields, reason: suspected.reason, errors: suspected.errors },
        `a connection to ${name} at ${address} failed (${suspected.reason}); ${name} is reachable`,
      );
      suspected = undefined;
    }
    if (outage?.readySince === undefined) holdRecovery();
    else recover();
    if (!outage) stopLooking();
  }

  function unreachable(error: Error) {
    if (outage) {
      // However ready the watched connections look, something still cannot reach it: the outage goes on.
      outage.errors += 1;
      outage.readySince = undefined;
      return;
    }
    suspected ??= { since: now(), errors: 0, reason: error.message };
    suspected.errors += 1;
    if (!allReady()) begin(suspected);
    if (!timer) startLooking();
  }

  /** Takes `error` into the outage if it says the dependency cannot be reached; answers whether it did. */
  function reportIfUnreachable(error: unknown): boolean {
    if (!isUnreachable(error)) return false;
    unreachable(error as Error);
    return true;
  }

  /**
   * The `error` listener of one user of the dependency. An error that is not about reaching it is
   * logged as `message` with `bindings` (the queue, say).
   */
  function listener(message: string, bindings: Record<string, unknown> = {}) {
    return (error: unknown) => {
      if (!reportIfUnreachable(error)) log.warn({ ...fields, ...bindings, err: error }, message);
    };
  }

  return {
    listener,
    reportIfUnreachable,
    /** Reports `connection`'s errors, and lets its `ready` end an outage once it holds. */
    watch<C extends WatchedConnection>(connection: C, message = `${name.toLowerCase()} connection error`): C {
      connections.add(connection);
      connection.on('error', listener(message));
      connection.on('ready', holdRecovery);
      return connection;
    },
    /**
     * A call that could not reach the dependency, for one reached by calls rather than a connection: it
     * begins an outage, or counts in the one under way. The caller has decided that `error` says so.
     */
    unanswered(error: Error): void {
      calls.status = 'unanswered';
      connections.add(calls);
      unreachable(error);
    },
    /** A call that reached the dependency: ends an outage its calls began, once every connection is ready. */
    answered(): void {
      if (calls.status === 'ready') return;
      calls.status = 'ready';
      holdRecovery();
    },
    /** True from the first error that says the dependency cannot be reached until its return is said. */
    get down(): boolean {
      return outage !== undefined;
    },
  };
}

export type OutageReporter = ReturnType<typeof createOutageReporter>;
