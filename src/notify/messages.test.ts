import { describe, expect, it } from 'vitest';
import type { FeedChange } from '../store/feed/change-feed.js';
import { draftDeliveries } from './messages.js';

const cursors = { change: (of: Pick<FeedChange, 'position'>) => `cursor-of-${of.position.id}` };

const change = (overrides: Partial<FeedChange>): FeedChange => ({
  position: { xid: '10', id: '7' },
  jobId: 'job-1',
  userId: 'user-1',
  fromState: 'pending',
  toState: 'provisional',
  fromFinal: false,
  toFinal: false,
  fromConfirmed: false,
  confirmed: false,
  outcome: { jobId: 'job-1', smileSecureCode: '5212', suspectUsers: [] },
  at: new Date('2026-12-03T12:00:00.000Z'),
  ...overrides,
});

describe('draftDeliveries', () => {
  it('makes job.updated for a change, with the Standard Webhooks envelope and a stable message id', () => {
    const [delivery, ...rest] = draftDeliveries([change({})], cursors);
    expect(rest).toEqual([]);
    expect(delivery).toMatchObject({
      changeId: '7',
      jobId: 'job-1',
      event: 'job.updated',
      messageId: 'msg_7_updated',
    });
    const payload = JSON.parse(delivery!.payload);
    expect(payload).toMatchObject({
      type: 'job.updated',
      timestamp: '2026-12-03T12:00:00.000Z',
      data: {
        jobId: 'job-1',
        state: 'provisional',
        isFinal: false,
        smileSecure: { code: '5212', meaning: 'system_error' },
        change: { fromState: 'pending', toState: 'provisional' },
      },
    });
    expect(typeof payload.data.cursor).toBe('string');
  });

  it('adds job.finalized after job.updated when the change made the job final and confirmed, and only then', () => {
    const settled = change({ toState: 'approved', toFinal: true, confirmed: true });
    expect(draftDeliveries([settled], cursors).map((delivery) => delivery.event)).toEqual([
      'job.updated',
      'job.finalized',
    ]);
    const confirmedLater = change({ toState: 'approved', fromFinal: true, toFinal: true, confirmed: true });
    expect(draftDeliveries([confirmedLater], cursors).map((delivery) => delivery.event)).toEqual([
      'job.updated',
      'job.finalized',
    ]);
    const alreadySettled = change({ fromFinal: true, fromConfirmed: true, toFinal: true, confirmed: true });
    expect(draftDeliveries([alreadySettled], cursors).map((delivery) => delivery.event)).toEqual([
      'job.updated',
    ]);
    const finalUnconfirmed = change({ toFinal: true, confirmed: false });
    expect(draftDeliveries([finalUnconfirmed], cursors).map((delivery) => delivery.event)).toEqual([
      'job.updated',
    ]);
  });
});
