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
  fromDecision: null,
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

  it('adds job.decided last when the change moved the decision, and says from what', () => {
    const pending = {
      value: 'pending',
      reasons: ['awaiting_confirmation'],
      details: {},
      source: 'policy',
      rule: 'awaiting_confirmation',
    };
    const approve = {
      ...pending,
      value: 'approve',
      reasons: ['approved'],
      rule: 'approved',
      policyVersion: 'smile-id-default@0123456789ab',
      decidedAt: '2026-12-03T12:00:00.000Z',
    };
    const decided = change({
      toState: 'approved',
      toFinal: true,
      confirmed: true,
      fromDecision: pending,
      outcome: { jobId: 'job-1', decision: approve },
    });
    const deliveries = draftDeliveries([decided], cursors);
    expect(deliveries.map((delivery) => [delivery.event, delivery.messageId])).toEqual([
      ['job.updated', 'msg_7_updated'],
      ['job.finalized', 'msg_7_finalized'],
      ['job.decided', 'msg_7_decided'],
    ]);
    expect(JSON.parse(deliveries[2]!.payload).data).toMatchObject({
      decision: approve,
      change: { fromDecision: 'pending' },
    });
  });

  it('sends no job.decided when the decision stayed, nor between two pending ones, nor for changes made before decisions', () => {
    const review = {
      value: 'review',
      reasons: ['stale_at_horizon'],
      details: {},
      source: 'policy',
      rule: 'stale_at_horizon',
    };
    const events = (overrides: Partial<FeedChange>) =>
      draftDeliveries([change(overrides)], cursors).map((delivery) => delivery.event);
    const sameAgain = {
      ...review,
      policyVersion: 'other@000000000000',
      decidedAt: '2026-12-04T00:00:00.000Z',
    };
    expect(events({ fromDecision: review, outcome: { decision: sameAgain } })).toEqual(['job.updated']);
    const noResult = { ...review, value: 'pending', reasons: ['no_result'], rule: 'no_result' };
    const unconfirmed = { ...noResult, reasons: ['awaiting_confirmation'], rule: 'awaiting_confirmation' };
    expect(events({ fromDecision: noResult, outcome: { decision: unconfirmed } })).toEqual(['job.updated']);
    expect(events({ fromDecision: null, outcome: { jobId: 'job-1' } })).toEqual(['job.updated']);
    expect(
      events({ fromDecision: review, outcome: { decision: { ...review, reasons: ['other'] } } }),
    ).toEqual(['job.updated', 'job.decided']);
  });
});
