import type { FastifyBaseLogger } from 'fastify';

/** How long one kind of error stays quiet after it was logged, unless told otherwise. */
const QUIET_MS = 60_000;
/** More kinds than any one call site fails with; past it, the record starts over rather than grow. */
const MAX_KINDS = 100;

/** One kind of error: its class and what it says (Redis's replies start with their code: WRONGTYPE, ERR). */
function kindOf(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  return `${error.name}: ${error.message}`.slice(0, 200);
}

/**
 * The logger of an error that a hot path may meet on every call (a Redis command before each call to
 * Smile ID, say): each kind is logged, with its stack, at most once per `quietMs`, with how many of that
 * kind went unlogged since the last line. The first line says what is wrong; a thousand more would only
 * hide everything else.
 */
export function createRepeatedErrorLog({
  log,
  level,
  message,
  quietMs = QUIET_MS,
  now = Date.now,
}: {
  log: FastifyBaseLogger;
  level: 'error' | 'warn';
  message: string;
  quietMs?: number;
  now?: () => number;
}) {
  const lastLogged = new Map<string, { at: number; unlogged: number }>();
  return (error: unknown, bindings: Record<string, unknown> = {}) => {
    const kind = kindOf(error);
    const last = lastLogged.get(kind);
    if (last && now() - last.at < quietMs) {
      last.unlogged += 1;
      return;
    }
    if (!last && lastLogged.size >= MAX_KINDS) lastLogged.clear();
    lastLogged.set(kind, { at: now(), unlogged: 0 });
    log[level]({ ...bindings, err: error, unloggedSinceLast: last?.unlogged ?? 0 }, message);
  };
}
