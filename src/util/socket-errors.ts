/**
 * Node's error codes for a connection that could not be made or was lost: the dependency cannot be
 * reached, whatever it is. Intake answers 503 for them, and the outage reporter says them once.
 */
export const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EADDRNOTAVAIL',
]);
