import { Prisma, type PrismaClient } from '../generated/prisma/client.js';

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
 * Registers a job we expect callbacks for, so that it is reconciled even if none ever arrives.
 * Registering again is harmless; registering a known job id for another user is a conflict. Not a hot
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
      // A user id learnt only from untrusted bodies (no registration, no trusted facet applied) is not
      // evidence of ownership: the registration replaces it rather than being refused.
      const identityVerified = existing.registeredAt !== null || Object.keys(existing.ranks ?? {}).length > 0;
      if (identityVerified && existing.userId !== null && existing.userId !== userId) return 'conflict';
      // Fill what the registration knows and the callbacks did not say; never overwrite what is verified.
      const adopted = await prisma.job.updateMany({
        where: { jobId, version: existing.version },
        data: {
          userId: identityVerified ? (existing.userId ?? userId) : userId,
          registeredAt: existing.registeredAt ?? now,
          jobType: existing.jobType ?? jobType,
          idType: existing.idType ?? idType,
          country: existing.country ?? country,
          updatedAt: now,
          version: { increment: 1 },
        },
      });
      if (adopted.count === 1) return 'existing';
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
