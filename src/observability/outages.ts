import type { FastifyBaseLogger } from 'fastify';

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
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const UNREACHABLE_MESSAGES =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|Connection is closed|Stream isn't writeable|max retries per request|^(?:NOAUTH|WRONGPASS)/i;

export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.test(error.message)
  );
}

/** How often, during an outage, the watched connections are looked at for one that came back quietly. */
const RECOVERY_CHECK_MS = 1000;

/**
 * Says once that a dependency went away and once that it is back, however many connections, queues and
 * workers use it: each of them reports every failed reconnect as an error (for Redis, about twenty a
 * second, each with a stack trace, from one worker process). An outage begins with the first error that
 * says the dependency cannot be reached, and ends when every watched connection is ready again; the
 * errors between are counted, not logged. Any other error is logged every time, with its stack.
 */
export function createOutageReporter({
  log,
  dependency,
  now = Date.now,
  recoveryCheckMs = RECOVERY_CHECK_MS,
}: {
  log: FastifyBaseLogger;
  dependency: Dependency;
  now?: () => number;
  recoveryCheckMs?: number;
}) {
  const { name, address, variable } = dependency;
  const fields = { dependency: name.toLowerCase(), address, variable };
  const connections = new Set<WatchedConnection>();
  let outage: { since: number; errors: number; timer: NodeJS.Timeout } | undefined;

  function begin(error: Error) {
    // A connection that comes back without a `ready` of its own (a queue's, a worker's) still ends it.
    const timer = setInterval(recover, recoveryCheckMs);
    timer.unref();
    outage = { since: now(), errors: 1, timer };
    log.error(
      { ...fields, reason: error.message },
      `${name} at ${address} is unreachable (${error.message}); ${dependency.remedy}`,
    );
  }

  function recover() {
    if (!outage || connections.size === 0) return;
    if (![...connections].every((connection) => connection.status === 'ready')) return;
    clearInterval(outage.timer);
    const { since, errors } = outage;
    outage = undefined;
    const downSeconds = Math.round((now() - since) / 1000);
    log.info(
      { ...fields, downSeconds, errors },
      `${name} at ${address} is reachable again after ${downSeconds} s`,
    );
  }

  /**
   * The `error` listener of one user of the dependency. An error that is not about reaching it is
   * logged as `message` with `bindings` (the queue, say).
   */
  function listener(message: string, bindings: Record<string, unknown> = {}) {
    return (error: unknown) => {
      if (!isUnreachable(error)) {
        log.warn({ ...fields, ...bindings, err: error }, message);
      } else if (outage) {
        outage.errors += 1;
      } else {
        begin(error as Error);
      }
    };
  }

  return {
    listener,
    /** Reports `connection`'s errors, and lets its `ready` end an outage. */
    watch<C extends WatchedConnection>(connection: C, message = `${name.toLowerCase()} connection error`): C {
      connections.add(connection);
      connection.on('error', listener(message));
      connection.on('ready', recover);
      return connection;
    },
    /** True from the first error that says the dependency cannot be reached until it is back. */
    get down(): boolean {
      return outage !== undefined;
    },
  };
}

export type OutageReporter = ReturnType<typeof createOutageReporter>;
