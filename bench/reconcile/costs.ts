import { transactionCount } from '../shared/database.js';
import { commandCpuMs, cpuTimeMs, machineBusyMs, postgresCpuMs } from '../shared/processes.js';
import { redisCommandCounts } from '../shared/redis.js';

/** CPU time (ms) spent by the processes under test, and by the whole machine. */
export interface CpuMs {
  workers: number;
  simulator: number;
  postgres: number;
  redis: number;
  machine: number;
}

/** Round trips as the servers counted them: Redis Lua scripts and commands, Postgres transactions. */
export interface RoundTrips {
  redisScripts: number;
  redisCommands: number;
  postgresTransactions: number;
}

interface Meter {
  workerPids: readonly number[];
  simulatorPid: number;
  redisUrl: string;
  postgresUrl: string;
  database: string;
}

function cpuNow({ workerPids, simulatorPid }: Meter): CpuMs {
  return {
    workers: workerPids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0),
    simulator: cpuTimeMs(simulatorPid),
    postgres: postgresCpuMs(),
    redis: commandCpuMs('redis-server'),
    machine: machineBusyMs(),
  };
}

/**
 * What the timed window costs, counted from now. Redis counts are server-wide and Postgres counts
 * cover the bench database, so the bench's own polling adds a few (negligible against thousands of jobs).
 */
export async function startCostMeter(meter: Meter) {
  const cpuBefore = cpuNow(meter);
  const redisBefore = await redisCommandCounts(meter.redisUrl);
  const transactionsBefore = await transactionCount(meter.postgresUrl, meter.database);

  return {
    /** CPU and Redis since the start; call while the workers still run, since their CPU dies with them. */
    async atEndOfWindow() {
      const cpuAfter = cpuNow(meter);
      const redisAfter = await redisCommandCounts(meter.redisUrl);
      const cpuMs: CpuMs = {
        workers: cpuAfter.workers - cpuBefore.workers,
        simulator: cpuAfter.simulator - cpuBefore.simulator,
        postgres: cpuAfter.postgres - cpuBefore.postgres,
        redis: cpuAfter.redis - cpuBefore.redis,
        machine: cpuAfter.machine - cpuBefore.machine,
      };
      const redis = {
        redisScripts: redisAfter.scripts - redisBefore.scripts,
        redisCommands: redisAfter.commands - redisBefore.commands,
      };
      return { cpuMs, redis };
    },
    /** Call after the workers stopped: a backend publishes its counts for sure only when it exits. */
    async transactions() {
      return (await transactionCount(meter.postgresUrl, meter.database)) - transactionsBefore;
    },
  };
}
