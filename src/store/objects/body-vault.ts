import { promisify } from 'node:util';
import { deflateRaw, inflateRaw, inflateRawSync } from 'node:zlib';
import type { FastifyBaseLogger } from 'fastify';
import {
  bulkySpans,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  joinBody,
  type PartLayout,
  type Span,
  splitBody,
} from '../../domain/body-parts.js';
import { type FieldCipher, sealContext } from '../../security/field-cipher.js';
import { type ObjectStorageObserver, type ObjectStore, ObjectStoreUnavailableError } from './object-store.js';
import { createPutFailures, type PutFailures } from './put-failures.js';

/**
 * Where a stored body's bytes live: its row keeps the skeleton (sealed), the object store its bulky
 * strings (each sealed on its own, under the same key as the row, bound to the row and its place), so
 * Postgres holds a few KiB per body and no photo, sealed or not. Object keys are made of the table, the
 * row's random id and the part's number: nothing of the body's content.
 *
 * Objects are written before the row that refers to them commits; an object whose row never commits
 * (a crash, a lost race, a duplicate) is an orphan, removed by the sweep (store/objects/orphans.ts) if
 * not here at once. When the store cannot take the parts, the body is kept whole in its row, as before
 * object storage, and moved out later (store/objects/inline-bodies.ts).
 */

export type BodyTable = 'callback_events' | 'status_snapshots';

export interface BodyRef {
  table: BodyTable;
  id: string;
}

/** A body as its row is to hold it. */
export interface StashedBody {
  /** The `body` column: the sealed envelope, or the sealed whole body. */
  sealed: Buffer;
  /** The `body_objects` column: parts in the object store, or null for a body kept whole. */
  objects: number | null;
  /** The objects written for it, to remove if the row is not written after all. */
  keys: string[];
}

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export const bodyContext = (ref: BodyRef): string =>
  ref.table === 'callback_events' ? sealContext.callbackBody(ref.id) : sealContext.snapshotBody(ref.id);

export const objectKeyOf = (ref: BodyRef, part: number): string => `${ref.table}/${ref.id}/${part}`;

export const objectKeysOf = (ref: BodyRef, count: number): string[] =>
  Array.from({ length: count }, (_, part) => objectKeyOf(ref, part));

const OBJECT_KEY = /^(callback_events|status_snapshots)\/([0-9a-f-]{36})\/(\d+)$/;

/** The row and part a key was made for; undefined for a key this service did not make. */
export function parseObjectKey(key: string): { ref: BodyRef; part: number } | undefined {
  const match = OBJECT_KEY.exec(key);
  if (!match) return undefined;
  return { ref: { table: match[1] as BodyTable, id: match[2]! }, part: Number(match[3]) };
}

/**
 * The envelope of a split body, its skeleton deflated: JSON of a few KiB shrinks to a third, and sealed
 * bytes no longer compress, in Postgres's TOAST or anywhere. On the thread pool, so a hostile body of
 * megabytes of text never holds the event loop.
 */
async function envelopeOf(skeleton: Buffer, layout: PartLayout[]): Promise<Buffer> {
  return encodeEnvelope({ skeleton: await deflate(skeleton), skeletonForm: 'deflated', layout });
}

async function skeletonOf(envelope: Envelope): Promise<Buffer> {
  return envelope.skeletonForm === 'deflated' ? inflate(envelope.skeleton) : envelope.skeleton;
}

/**
 * The JSON a stored body's user, ids and kinds can be read from, opened: the body itself, or the skeleton
 * of one whose photos are objects (the photos name nobody). Synchronous, for maintenance in batches.
 */
export function readableJsonOf(opened: Buffer): Buffer {
  const envelope = decodeEnvelope(opened);
  if (!envelope) return opened;
  return envelope.skeletonForm === 'deflated' ? inflateRawSync(envelope.skeleton) : envelope.skeleton;
}

/** Photos kept in a row whose object store is not configured: a fault of configuration, not of the data. */
export class ObjectStoreNotConfiguredError extends Error {
  override name = 'ObjectStoreNotConfiguredError';
}

/** What the vault's steps share. */
interface Vault {
  /** Null: every body is kept whole in Postgres. */
  objects: ObjectStore | null;
  cipher: FieldCipher;
  log: FastifyBaseLogger;
  observer?: ObjectStorageObserver | undefined;
  failures: PutFailures;
}

type Source = 'callback' | 'job_status';

const whole = ({ cipher }: Vault, ref: BodyRef, raw: Buffer): StashedBody => ({
  sealed: cipher.seal(raw, bodyContext(ref)),
  objects: null,
  keys: [],
});

/** The store the vault was given, or a fault of configuration when it was given none. */
function storeOf({ objects }: Vault, problem: string): ObjectStore {
  if (objects === null) throw new ObjectStoreNotConfiguredError(problem);
  return objects;
}

/** Writes a body's parts, each sealed on its own; when one fails, removes those written and throws. */
async function putParts(vault: Vault, ref: BodyRef, parts: readonly Buffer[]): Promise<string[]> {
  const objects = storeOf(vault, 'no object store to write photos to');
  const context = bodyContext(ref);
  const keys = objectKeysOf(ref, parts.length);
  const written = await Promise.allSettled(
    parts.map((part, index) =>
      objects.put(keys[index]!, vault.cipher.seal(part, sealContext.bodyPart(context, index))),
    ),
  );
  const failed = written.find((result) => result.status === 'rejected');
  if (failed) {
    void discard(vault, keys);
    throw failed.reason;
  }
  return keys;
}

/** A body split, its parts written to the store; or, when the store fails or was failing a moment ago, whole. */
async function split(
  vault: Vault,
  ref: BodyRef,
  raw: Buffer,
  spans: readonly Span[],
  source: Source,
): Promise<StashedBody> {
  if (vault.failures.paused) {
    vault.observer?.keptInline(source);
    return whole(vault, ref, raw);
  }
  const { skeleton, layout, parts } = splitBody(raw, spans);
  try {
    const keys = await putParts(vault, ref, parts);
    vault.failures.succeeded();
    const sealed = vault.cipher.seal(await envelopeOf(skeleton, layout), bodyContext(ref));
    return { sealed, objects: parts.length, keys };
  } catch (error) {
    vault.failures.failed(error);
    vault.observer?.keptInline(source);
    return whole(vault, ref, raw);
  }
}

/**
 * The body split for its row, its parts written to the object store (none for a body with nothing
 * bulky, whose skeleton is the whole body); or, when the store is not configured, fails or was failing
 * a moment ago, the body whole (`objects: null`).
 */
async function stash(vault: Vault, ref: BodyRef, raw: Buffer, source: Source): Promise<StashedBody> {
  if (vault.objects === null) return whole(vault, ref, raw);
  const spans = bulkySpans(raw);
  if (spans.length === 0) {
    return { sealed: vault.cipher.seal(await envelopeOf(raw, []), bodyContext(ref)), objects: 0, keys: [] };
  }
  return split(vault, ref, raw, spans, source);
}

async function partsOf(vault: Vault, ref: BodyRef, layout: readonly PartLayout[]): Promise<Buffer[]> {
  const objects = storeOf(
    vault,
    'a stored body has photos in the object store, but OBJECT_STORE_BUCKET is not set',
  );
  const context = bodyContext(ref);
  return Promise.all(
    layout.map(async (_place, index) =>
      vault.cipher.open(await objects.get(objectKeyOf(ref, index)), sealContext.bodyPart(context, index)),
    ),
  );
}

/** The body as received, from its row's `body` and its objects. */
async function open(vault: Vault, ref: BodyRef, stored: Uint8Array): Promise<Buffer> {
  const plain = vault.cipher.open(stored, bodyContext(ref));
  const envelope = decodeEnvelope(plain);
  if (!envelope) return plain;
  const parts = envelope.layout.length === 0 ? [] : await partsOf(vault, ref, envelope.layout);
  return joinBody(await skeletonOf(envelope), envelope.layout, parts);
}

/**
 * The row's `body` sealed again under the newest key, its objects first (rewritten in place), so a row
 * under the newest key never has an object under an older one.
 */
async function reseal(vault: Vault, ref: BodyRef, stored: Uint8Array): Promise<Buffer> {
  const { cipher } = vault;
  const context = bodyContext(ref);
  const plain = cipher.open(stored, context);
  const envelope = decodeEnvelope(plain);
  if (envelope && envelope.layout.length > 0) {
    const parts = await partsOf(vault, ref, envelope.layout);
    const objects = storeOf(vault, 'no object store to re-seal photos in');
    await Promise.all(
      parts.map((part, index) =>
        objects.put(objectKeyOf(ref, index), cipher.seal(part, sealContext.bodyPart(context, index))),
      ),
    );
  }
  return cipher.seal(plain, context);
}

/**
 * A body kept whole, split now: its parts written (the store must answer, or this throws) and the
 * envelope for its row; `objects: 0` when it has nothing bulky, and its row needs no rewrite.
 */
async function moveOut(vault: Vault, ref: BodyRef, stored: Uint8Array): Promise<StashedBody> {
  storeOf(vault, 'no object store to move bodies to');
  const context = bodyContext(ref);
  const plain = vault.cipher.open(stored, context);
  if (decodeEnvelope(plain)) throw new Error(`${ref.table} ${ref.id} is already split`);
  const spans = bulkySpans(plain);
  if (spans.length === 0) return { sealed: Buffer.from(stored), objects: 0, keys: [] };
  const { skeleton, layout, parts } = splitBody(plain, spans);
  const keys = await putParts(vault, ref, parts);
  const sealed = vault.cipher.seal(await envelopeOf(skeleton, layout), context);
  return { sealed, objects: parts.length, keys };
}

/**
 * Removes objects no row will refer to. What the store does not remove now stays an orphan, which the
 * orphan sweep removes once past its grace: said, as the store holds it meanwhile; during an outage of
 * the store, already said once, only at debug level, as every failed put would say it again.
 */
async function discard({ objects, log }: Vault, keys: readonly string[]): Promise<void> {
  if (objects === null || keys.length === 0) return;
  const outageSaid = objects.down;
  try {
    await objects.remove(keys);
  } catch (error) {
    const { name, message } = error as Error;
    const level = error instanceof ObjectStoreUnavailableError && outageSaid ? 'debug' : 'warn';
    log[level](
      { objectStore: objects.where, keys, error: { name, message } },
      'objects no stored body refers to could not be removed now: the orphan sweep removes them',
    );
  }
}

/** Removes the objects of bodies being erased; throws when the store cannot (the erasure is retried). */
async function erase(
  vault: Vault,
  bodies: ReadonlyArray<{ ref: BodyRef; objects: number }>,
): Promise<number> {
  const keys = bodies.flatMap(({ ref, objects: count }) => objectKeysOf(ref, count));
  if (keys.length === 0) return 0;
  return storeOf(vault, 'photos to erase are in an object store that is not configured').remove(keys);
}

export function createBodyVault({
  objects,
  cipher,
  log,
  observer,
  now = Date.now,
}: {
  /** Null: every body is kept whole in Postgres (OBJECT_STORE_INLINE=true). */
  objects: ObjectStore | null;
  cipher: FieldCipher;
  log: FastifyBaseLogger;
  observer?: ObjectStorageObserver | undefined;
  now?: () => number;
}) {
  const failures = createPutFailures({ log, where: objects?.where ?? 'none', now });
  const vault: Vault = { objects, cipher, log, observer, failures };
  return {
    stash: (ref: BodyRef, raw: Buffer, source: Source) => stash(vault, ref, raw, source),
    open: (ref: BodyRef, stored: Uint8Array) => open(vault, ref, stored),
    reseal: (ref: BodyRef, stored: Uint8Array) => reseal(vault, ref, stored),
    moveOut: (ref: BodyRef, stored: Uint8Array) => moveOut(vault, ref, stored),
    discard: (keys: readonly string[]) => discard(vault, keys),
    erase: (bodies: ReadonlyArray<{ ref: BodyRef; objects: number }>) => erase(vault, bodies),
    configured: objects !== null,
  };
}

export type BodyVault = ReturnType<typeof createBodyVault>;

export { ObjectStoreUnavailableError };
