// Discord lets a bot start a gateway session (IDENTIFY) once per 5 seconds per bucket, the bucket
// being shard id % max_concurrency (1 for most bots), counted for the bot wherever the identifies
// come from; past that it answers Invalid Session and the shard must identify again. discord.js
// spaces the identifies of the shards in one process only. npm start's manager starts its shard
// processes 5.5 s apart, but shard processes run on their own (systemd starts them all at once,
// and restarts one whenever it dies) have nobody to space them: so every shard process of several
// takes a turn in Redis before it identifies.

import { setTimeout as sleep } from 'node:timers/promises';
import { type IIdentifyThrottler, SimpleIdentifyThrottler, type WebSocketOptions } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';

/** Discord's 5 s, and half a second for an identify's trip from the turn to Discord. */
export const IDENTIFY_SPACING_MS = 5_500;

/**
 * A turn is a key set with SET NX that expires after the spacing: whoever sets it may identify now,
 * the others wait until it expires and try again. Nobody releases a turn: the spacing is the point.
 */
export function redisIdentifyThrottler(options: { redis: Redis; botId: string; maxConcurrency: number; log: Logger; spacingMs?: number }): IIdentifyThrottler {
  const { redis, log } = options;
  const spacing = options.spacingMs ?? IDENTIFY_SPACING_MS;
  return {
    async waitForIdentify(shardId, signal) {
      const key = `gatepass:identify:${options.botId}:${shardId % options.maxConcurrency}`;
      for (let waited = false; ; waited = true) {
        let wait: number;
        try {
          if ((await redis.set(key, String(shardId), 'PX', spacing, 'NX')) === 'OK') {
            if (waited) log.info({ shard: shardId }, 'identifying with Discord: our turn came');
            return;
          }
          wait = await redis.pttl(key);
        } catch (error) {
          // Redis away: no turn can be had, and a shard must not stay off Discord for it. One
          // identify per spacing from this process at most; another process's may collide, which
          // Discord answers with Invalid Session, and discord.js identifies again.
          log.warn({ err: (error as Error).message, shard: shardId }, 'identify turn: Redis error; identifying after the spacing without a turn');
          await sleep(spacing, undefined, { signal });
          return;
        }
        if (!waited) log.info({ shard: shardId, bot: options.botId, waitMs: wait }, 'another shard process identified less than 5 s ago: waiting for our turn');
        // The key expired between the two calls (-2), or has no expiry (-1, never set so): ask again soon.
        await sleep(wait > 0 ? wait + Math.floor(Math.random() * 100) : 50, undefined, { signal });
      }
    },
  };
}

/**
 * discord.js's ws.buildIdentifyThrottler: turns in Redis when the client holds shards of several
 * (every shard process of a bot sharing this Redis), discord.js's own in-process throttler otherwise.
 */
export function identifyThrottler(redis: Redis, botId: string, log: Logger): NonNullable<WebSocketOptions['buildIdentifyThrottler']> {
  return async (manager) => {
    const { session_start_limit: limit } = await manager.fetchGatewayInformation();
    if ((await manager.getShardCount()) <= 1) return new SimpleIdentifyThrottler(limit.max_concurrency);
    return redisIdentifyThrottler({ redis, botId, maxConcurrency: limit.max_concurrency, log });
  };
}
