import { needsConfirmation } from '../domain/merge.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { outcomeFromRecord } from './job-record.js';

export interface JobRegistration {
  jobId: string;
  userId: string;
  jobType?: number | undefined;
  idType?: string | undefined;
  country?: string | undefined;
}

export type RegistrationResult = 'created' | 'existing' | 'conflict';

const MAX_ATTEMPTS = 5;

/**
 * Registers a job we expect callbacks for, so that it is reconciled even if none ever arrives, and
 * fixes whom it belongs to. Registering again is harmless (`existing`); registering a job that only
 * callbacks knew is a new registration (`created`); registering a job id for another user than a
 * registration or job_status established is a conflict. Not a hot
 * path, so it goes through Prisma; its writes bump the job's version like every other writer's, so a
 * concurrent callback's compare-and-swap re-reads instead of overwriting.
 */
export function createRegistrations({ prisma }: { prisma: PrismaClient }) {
  async function register(
    registration: JobRegistration,
    now: Date,
    firstCheckAt: Date,
  ): Promise<RegistrationResult> {
    const { jobId, userId, jobType = null, idType = null, country = null } = registration;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const existing = await prisma.job.findUnique({ where: { jobId } });
      if (!existing) {
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
              nextCheckAt: firstCheckAt,
              identitySource: 'registration',
              tracked: true,
              version: 1,
              // The transition that starts the job's history.
              transitions: {
                create: { fromState: null, toState: 'pending', fromFinal: null, toFinal: false, at: now },
              },
            },
          });
          return 'created';
        } catch (error) {
          if (isUniqueViolation(error)) continue; // created concurrently: adopt it instead
          throw error;
        }
      }
      // Identity comes from us: a user id that only bodies claimed gives way to the registration; one
      // that a registration or a job_status answer established does not.
      const identityEstablished =
        existing.identitySource === 'registration' || existing.identitySource === 'job_status';
      if (identityEstablished && existing.userId !== null && existing.userId !== userId) return 'conflict';
      const outcome = {
        ...outcomeFromRecord(existing),
        userId,
        jobType: identityEstablished ? (existing.jobType ?? jobType) : (jobType ?? existing.jobType),
        identity: 'registration' as const,
        tracked: true,
      };
      const adopted = await prisma.job.updateMany({
        where: { jobId, version: existing.version },
        data: {
          userId,
          jobType: outcome.jobType,
          identitySource: 'registration',
          tracked: true,
          needsConfirmation: needsConfirmation(outcome),
          registeredAt: existing.registeredAt ?? now,
          idType: existing.idType ?? idType,
          country: existing.country ?? country,
          // A job that only untrusted bodies knew of was not polled: it is now.
          nextCheckAt: existing.tracked ? existing.nextCheckAt : firstCheckAt,
          updatedAt: now,
          version: { increment: 1 },
        },
      });
      if (adopted.count === 1) return existing.registeredAt === null ? 'created' : 'existing';
    }
    throw new Error(`could not register job after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** Makes the job due now; false when there is no such job. */
  async function requestCheck(jobId: string, now: Date): Promise<boolean> {
    const { count } = await prisma.job.updateMany({ where: { jobId }, data: { nextCheckAt: now } });
    return count === 1;
  }

  return { register, requestCheck };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

export type Registrations = ReturnType<typeof createRegistrations>;
