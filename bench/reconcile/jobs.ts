import { type SimulatedJob, simulatedJob } from '../../src/simulator/callbacks.js';

/** The two kinds of job the reconciler meets, measured separately. */
export const POPULATIONS = [
  { id: 'final', title: 'final through callbacks' },
  { id: 'silent', title: 'registered, silent' },
] as const;

export type PopulationId = (typeof POPULATIONS)[number]['id'];

export interface BenchJob {
  population: PopulationId;
  job: SimulatedJob;
}

/**
 * `total` jobs, split evenly between the populations. A job id starts with its population (`final-00042`)
 * so SQL can group by it; user ids and identity data derive from the job id, as the simulator's do.
 */
export function benchJobs(total: number): BenchJob[] {
  return Array.from({ length: total }, (_, index) => {
    const population = POPULATIONS[index % POPULATIONS.length]!.id;
    return { population, job: simulatedJob({ jobId: `${population}-${String(index).padStart(6, '0')}` }) };
  });
}

/** The SQL expression that names a job's population (the job id's prefix). */
export const POPULATION_SQL = `split_part(job_id, '-', 1)`;
