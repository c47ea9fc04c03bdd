import { Redis } from 'ioredis';

/** Deletes every key under `prefix:` (the service's queues, schedulers, rate limits), so a shared Redis stays clean. */
export async function deleteKeysWithPrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      const batch = keys as string[];
      if (batch.length > 0) deleted += await redis.unlink(...batch);
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Commands Redis has run so far: Lua script calls (EVALSHA/EVAL/FCALL) and every command, including those inside scripts. */
export interface RedisCommandCounts {
  scripts: number;
  commands: number;
}

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro', 'fcall_ro']);

/** Server-wide, from INFO commandstats: other clients of a shared Redis add to it. */
export async function redisCommandCounts(redisUrl: string): Promise<RedisCommandCounts> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('commandstats');
    const counts = { scripts: 0, commands: 0 };
    for (const match of info.matchAll(/^cmdstat_([\w|-]+):calls=(\d+)/gm)) {
      const calls = Number(match[2]);
      counts.commands += calls;
      if (SCRIPT_COMMANDS.has(match[1]!)) counts.scripts += calls;
    }
    return counts;
  } finally {
    redis.disconnect();
  }
}
