import { z } from 'zod';
import { bigintDigits } from '../util/bigint-id.js';

/**
 * Opaque page cursors: a small JSON object, base64url-encoded. Callers must treat them as opaque; the
 * API validates every cursor it is handed with the payload's schema, so a forged or truncated one is a
 * 400 (INVALID_CURSOR, see validation.ts), never a query with odd values.
 */

const MAX_CURSOR_CHARS = 256;
const NOT_OURS = 'is not a cursor this API issued';

export function encodeCursor(payload: Record<string, string>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

function decodeJson(value: string): unknown {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A query-string cursor that decodes to `payload`'s output. */
export function cursorSchema<T>(payload: z.ZodType<T>) {
  return z
    .string()
    .max(MAX_CURSOR_CHARS, NOT_OURS)
    .regex(/^[A-Za-z0-9_-]+$/, NOT_OURS)
    .transform((value, context) => {
      const parsed = payload.safeParse(decodeJson(value));
      if (parsed.success) return parsed.data;
      context.issues.push({ code: 'custom', message: NOT_OURS, input: value });
      return z.NEVER;
    })
    .describe('`nextCursor` of the previous page, as given');
}

/** GET /v1/jobs: the insertion sequence of the last job served. */
export const jobCursorPayload = z.strictObject({ seq: z.string().regex(/^[1-9]\d{0,17}$/) });

/** GET /v1/jobs/:jobId/events: time and id of the last event served. */
export const eventCursorPayload = z.strictObject({ at: z.iso.datetime(), id: z.uuid() });

/** GET /v1/changes and webhooks: the feed position of the last change served. */
export const feedCursorPayload = z.strictObject({ xid: bigintDigits(), id: bigintDigits() });

/** The feed cursor of a change: GET /v1/changes?after= takes it, and webhooks carry it. */
export const changeCursor = (change: { position: { xid: string; id: string } }) =>
  encodeCursor({ ...change.position });
