import type { LoggerOptions } from 'pino';

/**
 * Paths that must never reach a log line. Bodies are never logged at all; these catch secrets and
 * identity data that might ride along in headers or in objects handed to the logger by mistake.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.signature',
  '*.apiKey',
  '*.idInfo',
  '*.FullName',
  '*.fullName',
  '*.DOB',
  '*.dob',
  '*.IDNumber',
  '*.idNumber',
  '*.Photo',
  '*.body',
  'body',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'smileid-callbacks' },
    serializers: {
      // The default serializer logs the full URL; query strings may carry user ids, so keep the path only.
      req: (request: { method: string; url: string; ip?: string; id?: string }) => ({
        id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        ip: request.ip,
      }),
    },
  };
}
