import type { JobDecision } from '../../domain/decision/job-decision.js';
import type { JobOutcome } from '../../domain/outcome.js';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { decodeJob, type StoredJob } from './job-table.js';

/** A decision as Prisma writes the job's columns. */
function decisionData(decision: JobDecision) {
  return {
    decision: decision.value,
    decisionReasons: decision.reasons,
    decisionDetails: { ...decision.details },
    decisionSource: decision.source,
    decisionRule: decision.rule,
    decisionPolicyVersion: decision.policyVersion,
    decidedAt: decision.decidedAt,
    decisionBasis: decision.basis === undefined ? Prisma.DbNull : { ...decision.basis },
  };
}

export interface JobRegistration {
  jobId: string;
  userId: string;
  jobType?: number | undefined;
  idType?: string | undefined;
  country?: string | undefined;
}

/**
 * Registrations' rows, through Prisma: not a hot path. Their writes bump the job's version like every
 * other writer's, so a concurrent callback's compare-and-swap reads again instead of overwriting.
 */
export function createRegistrationStore({ prisma }: { prisma: PrismaClient }) {
  return {
    async load(jobId: string): Promise<StoredJob | undefined> {
      const row = await prisma.job.findUnique({ where: { jobId } });
      return row ? decodeJob(row as unknown as Record<string, unknown>) : undefined;
    },

    /** Creates the job with the transition that starts its history; false when it exists already. */
    async create(
      registration: JobRegistration,
      { now, nextCheckAt, decision }: { now: Date; nextCheckAt: Date; decision: JobDecision },
    ) {
      const { jobId, userId, jobType = null, idType = null, country = null } = registration;
      try {
        await prisma.job.create({
          data: {
            jobId,
            userId,
            jobType,
            idType,
            country,
            registeredAt: now,
            createdAt: now,
            updatedAt: now,
            nextCheckAt,
            identitySource: 'registration',
            tracked: true,
            version: 1,
            ...decisionData(decision),
            transitions: {
              create: { fromState: null, toState: 'pending', fromFinal: null, toFinal: false, at: now },
            },
          },
        });
        return true;
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return false;
        throw error;
      }
    },

    /** Writes a registration onto a job read at `job.version`; false when the job changed since. */
    async adopt(
      job: StoredJob,
      change: {
        after: JobOutcome;
        nextCheckAt: Date | null;
        now: Date;
        idType: string | null;
        country: string | null;
        decision: JobDecision;
      },
    ): Promise<boolean> {
      const { after, now } = change;
      const { count } = await prisma.job.updateMany({
        where: { jobId: after.jobId, version: job.version },
        data: {
          userId: after.userId,
          jobType: after.jobType,
          identitySource: after.identity,
          tracked: after.tracked,
          needsConfirmation: after.needsConfirmation,
          registeredAt: job.registeredAt ?? now,
          idType: change.idType,
          country: change.country,
          nextCheckAt: change.nextCheckAt,
          ...decisionData(change.decision),
          updatedAt: now,
          version: { increment: 1 },
        },
      });
      return count === 1;
    },

    /** Makes the job due now; false when there is no such job. */
    async requestCheck(jobId: string, now: Date): Promise<boolean> {
      const { count } = await prisma.job.updateMany({ where: { jobId }, data: { nextCheckAt: now } });
      return count === 1;
    },
  };
}

export type RegistrationStore = ReturnType<typeof createRegistrationStore>;
