import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { loggerOptions } from '../../src/observability/logger.js';

/** The service's own logger configuration, writing into memory so tests can read every line. */
export function capturingLogger(level: string): { logger: Logger; logs: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino(loggerOptions(level), sink), logs: () => lines.join('') };
}

/** The same logger, with every line read back as the object pino wrote, into an array that fills as it logs. */
export function loggedLines(level: string): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino(loggerOptions(level), sink), lines };
}
