import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyJobStatusShape } from '../smileid/classify.js';
import { simulatedJob } from './callbacks.js';
import {
  DEFAULT_REVIEW_DELAY_MS,
  JOB_LIVES,
  type JobStatusBody,
  jobStatusAt,
  lifeCallbacks,
  NOT_STARTED_RESULT,
  suspectOf,
} from './job-lives.js';

const job = simulatedJob({ jobId: 'job-lives-test', userId: 'user-lives-test' });
const classify = (body: JobStatusBody) => classifyJobStatusShape({ ...body });
const resultCodeOf = (body: JobStatusBody) =>
  typeof body.result === 'string' ? body.result : body.result.ResultCode;

describe('job lives', () => {
  it('approves at once: complete, successful, result 1210 and the ID record in history', () => {
    const body = jobStatusAt('approved', job, 0);
    expect(body).toMatchObject({ job_complete: true, job_success: true, code: '2302' });
    expect(resultCodeOf(body)).toBe('1210');
    expect(body.history.map((entry) => entry.ResultCode)).toEqual(['1012', '1210']);
  });

  it('plays human review: nothing before the start, then provisional 0814, then final 1210', () => {
    const timing = { startDelayMs: 2000, reviewDelayMs: 10_000 };
    const before = jobStatusAt('review', job, 1999, timing);
    expect(before).toMatchObject({ job_complete: false, job_success: false, result: NOT_STARTED_RESULT });
    expect(before.history).toEqual([]);

    const provisional = jobStatusAt('review', job, 2000 + 9999, timing);
    expect(provisional).toMatchObject({ job_complete: false, job_success: false });
    expect(resultCodeOf(provisional)).toBe('0814');
    expect(classify(provisional).facets.find((facet) => facet.slot === 'result')).toMatchObject({
      final: false,
      state: 'provisional',
    });

    const final = jobStatusAt('review', job, 12_000, timing);
    expect(final).toMatchObject({ job_complete: true, job_success: true });
    expect(final.history.map((entry) => entry.ResultCode)).toEqual(['1012', '0814', '1210']);
  });

  it('waits a minute for review when no review delay is given', () => {
    expect(jobStatusAt('review', job, DEFAULT_REVIEW_DELAY_MS - 1).job_complete).toBe(false);
    expect(jobStatusAt('review', job, DEFAULT_REVIEW_DELAY_MS).job_complete).toBe(true);
  });

  it('rejects a failed liveness check with 0907: complete but not successful', () => {
    const body = jobStatusAt('rejected', job, 0);
    expect(body).toMatchObject({ job_complete: true, job_success: false });
    expect(resultCodeOf(body)).toBe('0907');
    expect(classify(body).facets.find((facet) => facet.slot === 'result')).toMatchObject({
      state: 'rejected',
    });
  });

  it('ends a job whose ID number the authority cannot find with 1013, final and unsuccessful', () => {
    const body = jobStatusAt('id_not_found', job, 0);
    expect(body).toMatchObject({ job_complete: true, job_success: false });
    expect(resultCodeOf(body)).toBe('1013');
    const idInfo = classify(body).facets.find((facet) => facet.slot === 'idInfo');
    expect(idInfo).toMatchObject({ idInfo: { idNumber: job.idNumber, photoProvided: false } });
  });

  it('adds a Smile Secure 5211 callback naming the suspect to an approved job', () => {
    const body = jobStatusAt('suspects', job, 0);
    expect(body).toMatchObject({ job_complete: true, job_success: true });
    expect(body.history.map((entry) => entry.ResultCode)).toEqual(['1012', '1210', '5211']);
    const smileSecure = classify(body).facets.find((facet) => facet.slot === 'smileSecure');
    expect(smileSecure).toMatchObject({
      code: '5211',
      suspectUsers: [{ userId: suspectOf(job).user_id, reason: suspectOf(job).reason }],
    });
    expect(suspectOf(job).user_id).not.toBe(job.userId);
  });

  it('never starts: the result stays the plain string and history stays empty at any time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 24 * 3600 * 1000 }), (elapsedMs) => {
        expect(jobStatusAt('never_started', job, elapsedMs)).toEqual({
          job_complete: false,
          job_success: false,
          code: '2302',
          result: 'No zip uploaded yet',
          history: [],
          image_links: {},
        });
      }),
    );
  });

  it.each(['approved', 'review', 'rejected', 'suspects'] as const)(
    'keeps the ID-information facet in the history of a finished %s job, as classify reads it',
    (life) => {
      const body = jobStatusAt(life, job, DEFAULT_REVIEW_DELAY_MS);
      expect(typeof body.result).toBe('object');
      const classified = classify(body);
      expect(classified.kinds).toContain('id_info');
      expect(classified.jobId).toBe(job.jobId);
      expect(classified.facets.find((facet) => facet.slot === 'idInfo')).toMatchObject({
        idInfo: { idNumber: job.idNumber, fullName: job.fullName, photoProvided: true },
      });
    },
  );

  it('types loosely inside result, as Smile ID does: strings for booleans and numbers', () => {
    const body = jobStatusAt('approved', job, 0);
    expect(body.result).toMatchObject({
      IsFinalResult: 'true',
      IsMachineResult: 'true',
      ConfidenceValue: '99',
      PartnerParams: { job_id: job.jobId, user_id: job.userId, job_type: '1' },
    });
  });

  it('never takes back what was sent: history grows, and a complete job stays complete', () => {
    const timing = { startDelayMs: 500, reviewDelayMs: 5000 };
    fc.assert(
      fc.property(
        fc.constantFrom(...JOB_LIVES),
        fc.integer({ min: -1000, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (life, earlier, gap) => {
          const first = jobStatusAt(life, job, earlier, timing);
          const later = jobStatusAt(life, job, earlier + gap, timing);
          expect(later.history.slice(0, first.history.length)).toEqual(first.history);
          if (first.job_complete) expect(later).toEqual(first);
          if (typeof first.result === 'object') expect(later.history).toContainEqual(first.result);
        },
      ),
    );
  });

  it('lists when each callback is sent, the review verdict only after the review delay', () => {
    const callbacks = lifeCallbacks('review', job, { startDelayMs: 100, reviewDelayMs: 900 });
    expect(callbacks.map(({ atMs, label }) => ({ atMs, label }))).toEqual([
      { atMs: 100, label: 'ID information' },
      { atMs: 100, label: 'result: provisional' },
      { atMs: 1000, label: 'result: approved after review' },
    ]);
    expect(lifeCallbacks('never_started', job)).toEqual([]);
  });

  it('gives the ID authority photo the requested size', () => {
    const [idInfo] = lifeCallbacks('approved', job, { photoBytes: 1_400_000 });
    expect(String(idInfo?.body.Photo)).toHaveLength(1_400_000);
  });
});
