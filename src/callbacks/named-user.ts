import { parseCallbackBody } from '../smileid/callback-body.js';
import { classifyBody } from '../smileid/classify.js';
import { storable } from './storable.js';

/**
 * The user id a stored callback body names, read exactly as intake read it when the body arrived (null
 * when it names none that the id rule accepts). Lets maintenance make the body's user digest again, for
 * bodies stored before digests were kept, or under a key about to be removed.
 */
export function userIdNamedBy(raw: Buffer): string | null {
  const parsed = parseCallbackBody(raw);
  if (!parsed.ok) return null;
  try {
    return storable(classifyBody(parsed.body)).userId;
  } catch {
    return null;
  }
}
