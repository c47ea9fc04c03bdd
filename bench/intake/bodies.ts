import { randomBytes } from 'node:crypto';
import { idInfoCallback, resultCallback, signCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import type { CallbackKind } from '../shared/settings.js';

const PHOTO_BYTES = 1_400_000;
const POOL_SIZE = 200;
const COUNTER_DIGITS = 10;

interface Credentials {
  partnerId: string;
  apiKey: string;
}

/**
 * Signed callback bodies, each naming a job never seen before, for almost no CPU per request.
 *
 * Everything costly happens here, before the clock starts: one body is built from the simulator, then
 * copied into a pool of buffers, each signed with its own fresh timestamp (the signature covers only the
 * timestamp, so the body may change afterwards). Per request, `next()` takes the next pool buffer and
 * writes a counter into the job id's fixed-width tail in place. A buffer is rewritten only after
 * POOL_SIZE later requests, far more than the connections that could still be sending it.
 */
export function createBodySource(kind: CallbackKind, credentials: Credentials): () => Buffer {
  // A random tag per process keeps job ids distinct across warm-ups, scenarios and servers.
  const jobIdTemplate = `bench-${randomBytes(4).toString('hex')}-${'0'.repeat(COUNTER_DIGITS)}`;
  const job = simulatedJob({ jobId: jobIdTemplate });
  const unsigned = JSON.stringify(
    kind === 'result' ? resultCallback(job) : idInfoCallback(job, { photoBytes: PHOTO_BYTES }),
  );
  // signCallback appends timestamp and signature after the body's own keys; so does this, on the text.
  const pool = Array.from({ length: POOL_SIZE }, () => {
    const { timestamp, signature } = signCallback({}, credentials);
    const tail = `,"timestamp":${JSON.stringify(timestamp)},"signature":${JSON.stringify(signature)}}`;
    return Buffer.from(unsigned.slice(0, -1) + tail);
  });

  // Every pool buffer shares the text before the tail, so the job id sits at the same offset in each.
  const first = pool[0]!;
  const jobIdOffset = first.indexOf(jobIdTemplate);
  if (jobIdOffset < 0 || first.lastIndexOf(jobIdTemplate) !== jobIdOffset) {
    throw new Error('the job id must appear exactly once in the template body');
  }
  const counterOffset = jobIdOffset + jobIdTemplate.length - COUNTER_DIGITS;

  let sent = 0;
  return () => {
    sent += 1;
    const body = pool[sent % POOL_SIZE]!;
    body.write(String(sent).padStart(COUNTER_DIGITS, '0'), counterOffset, 'latin1');
    return body;
  };
}
