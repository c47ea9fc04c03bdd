import { describe, expect, it } from 'vitest';
import { QUEUES } from './catalog.js';
import { type JobModule, planWorkers } from './job-module.js';

const done = async () => 'done';

/** A feature that owns the maintenance queue and runs what the catalog puts on it. */
const maintenance: JobModule = {
  feature: 'maintenance',
  queues: { [QUEUES.maintenance]: { concurrency: 1 } },
  handlers: {
    sweepDueChecks: done,
    sweepDueSubmissions: done,
    sweepNotifications: done,
    purgeExpiredIdentityData: done,
    replayDecisions: done,
    moveInlineBodies: done,
    sweepObjectOrphans: done,
  },
  schedules: { purgeExpiredIdentityData: { every: 60_000 } },
};

describe('planWorkers', () => {
  it('gives each declared queue one worker with the handlers of its entries, whichever module declares them', () => {
    const checks: JobModule = {
      feature: 'reconcile',
      queues: { [QUEUES.statusChecks]: { concurrency: 4, limiter: { max: 9, duration: 1000 } } },
      handlers: { checkStatus: done },
      schedules: { sweepDueChecks: { every: 500 } },
    };
    const { sweepDueChecks, ...rest } = maintenance.handlers;
    const plan = planWorkers([
      checks,
      { ...maintenance, handlers: rest },
      { feature: 'x', handlers: { sweepDueChecks } },
    ]);
    expect(plan.queues.map(({ name, settings }) => ({ name, settings }))).toEqual([
      { name: 'status-checks', settings: { concurrency: 4, limiter: { max: 9, duration: 1000 } } },
      { name: 'maintenance', settings: { concurrency: 1 } },
    ]);
    expect(Object.keys(plan.queues[1]!.handlers).sort()).toEqual([
      'moveInlineBodies',
      'purgeExpiredIdentityData',
      'replayDecisions',
      'sweepDueChecks',
      'sweepDueSubmissions',
      'sweepNotifications',
      'sweepObjectOrphans',
    ]);
    expect(plan.schedules).toEqual([
      { entry: 'sweepDueChecks', every: 500 },
      { entry: 'purgeExpiredIdentityData', every: 60_000 },
    ]);
  });

  it('refuses a queue declared by two modules', () => {
    const again: JobModule = {
      feature: 'again',
      queues: { [QUEUES.maintenance]: { concurrency: 2 } },
      handlers: {},
    };
    expect(() => planWorkers([maintenance, again])).toThrow(
      'queue maintenance is declared by both maintenance and again',
    );
  });

  it('refuses a handler whose queue no module declares: nothing would ever run it', () => {
    const orphan: JobModule = { feature: 'notify', handlers: { deliverNotification: done } };
    expect(() => planWorkers([maintenance, orphan])).toThrow(
      'notify handles deliverNotification, but no module declares its queue notifications',
    );
  });

  it('refuses a declared queue with an entry left without a handler: its jobs would fail', () => {
    const { sweepNotifications: _, ...rest } = maintenance.handlers;
    expect(() => planWorkers([{ ...maintenance, handlers: rest }])).toThrow(
      'sweepNotifications runs on maintenance, which maintenance declares, but no module handles it',
    );
  });

  it('refuses an entry handled by two modules', () => {
    expect(() =>
      planWorkers([maintenance, { feature: 'other', handlers: { sweepDueChecks: done } }]),
    ).toThrow('sweepDueChecks is handled by both maintenance and other');
  });

  it('refuses a schedule of an entry that no module handles', () => {
    const checks: JobModule = {
      feature: 'reconcile',
      queues: { [QUEUES.statusChecks]: { concurrency: 1 } },
      handlers: { checkStatus: done },
      schedules: { checkUntrusted: { every: 1000 } },
    };
    expect(() => planWorkers([checks])).toThrow(
      'reconcile schedules checkUntrusted, which no module handles',
    );
  });
});
