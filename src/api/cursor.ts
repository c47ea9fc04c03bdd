import { z } from 'zod';
import { parseKeyring } from '../security/field-cipher.js';
import { createKeyedTags, type KeyedTags, TAG_BYTES } from '../security/keyed-tags.js';
import { bigintDigits } from '../util/bigint-id.js';

/**
 * Opaque page cursors, authenticated: a tag, then a small JSON object, base64url-encoded as one string.
 * The tag (keyed-tags.ts) is made over the listing's name and the JSON, so a cursor this API did not
 * issue, or issued for another listing, is refused before its content is even parsed: a forged feed
 * position is a 400 (INVALID_CURSOR, see validation.ts), never an empty page that echoes it back and
 * leaves its consumer waiting forever. The payload's schema then checks what an issued cursor holds.
 */

const MAX_CURSOR_CHARS = 256;
const NOT_OURS = 'is not a cursor this API issued';

/** The HKDF purpose of the cursor keys: no other use of the data keys shares them. */
export const CURSOR_KEY_PURPOSE = 'smileid cursor v1';

/** The listings that hand out cursors; a cursor is accepted only by the listing that issued it. */
export type CursorListing = 'jobs' | 'events' | 'changes' | 'dead-letters' | 'reviews';

export function createCursors(tags: KeyedTags) {
  function encode(listing: CursorListing, payload: Record<string, string>): string {
    const json = Buffer.from(JSON.stringify(payload), 'utf8');
    return Buffer.concat([tags.tag(listing, json), json]).toString('base64url');
  }

  /** The payload of a cursor `listing` issued, or undefined. */
  function open(listing: CursorListing, value: string): unknown {
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length <= TAG_BYTES) return undefined;
    const json = bytes.subarray(TAG_BYTES);
    if (!tags.verify(listing, json, bytes.subarray(0, TAG_BYTES))) return undefined;
    try {
      return JSON.parse(json.toString('utf8'));
    } catch {
      return undefined;
    }
  }

  /** A query-string cursor issued by `listing`, decoded to `payload`'s output. */
  function schema<T>(listing: CursorListing, payload: z.ZodType<T>) {
    return z
      .string()
      .max(MAX_CURSOR_CHARS, NOT_OURS)
      .regex(/^[A-Za-z0-9_-]+$/, NOT_OURS)
      .transform((value, context) => {
        const parsed = payload.safeParse(open(listing, value));
        if (parsed.success) return parsed.data;
        context.issues.push({ code: 'custom', message: NOT_OURS, input: value });
        return z.NEVER;
      })
      .describe('`nextCursor` of the previous page, as given: opaque, and valid only for this listing');
  }

  return {
    encode,
    schema,
    /** The feed cursor of a change: GET /v1/changes?after= takes it, and webhooks carry it. */
    change: (change: { position: { xid: string; id: string } }) =>
      encode('changes', { xid: change.position.xid, id: change.position.id }),
  };
}

export type Cursors = ReturnType<typeof createCursors>;

/** The cursors of a deployment: every process configured with the same DATA_ENCRYPTION_KEYS accepts them. */
export const cursorsOf = (dataEncryptionKeys: readonly string[]): Cursors =>
  createCursors(createKeyedTags(parseKeyring(dataEncryptionKeys), CURSOR_KEY_PURPOSE));

/** GET /v1/jobs: the insertion sequence of the last job served. */
export const jobCursorPayload = z.strictObject({ seq: z.string().regex(/^[1-9]\d{0,17}$/) });

/** GET /v1/reviews: when the last job served went to review, and its insertion sequence. */
export const reviewCursorPayload = z.strictObject({
  at: z.iso.datetime(),
  seq: z.string().regex(/^[1-9]\d{0,17}$/),
});

/** GET /v1/jobs/:jobId/events: time and id of the last event served. */
export const eventCursorPayload = z.strictObject({ at: z.iso.datetime(), id: z.uuid() });

/** GET /v1/changes and webhooks: the feed position of the last change served. */
export const feedCursorPayload = z.strictObject({ xid: bigintDigits(), id: bigintDigits() });
