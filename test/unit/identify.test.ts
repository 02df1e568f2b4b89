// Identify turns in Redis: shard processes of one bot, each with its own connection, identify one
// per spacing per bucket, whatever order they ask in; other bots and other buckets do not wait; a
// shard closed while waiting stops waiting; Redis away still lets a shard identify, after a spacing.

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/log';
import { redisIdentifyThrottler } from '../../src/queue/identify';
import { connectRedis } from '../../src/queue/redis';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

const SPACING = 300;
/** What the throttlers logged: a shard that waited for a turn says so. */
const lines: string[] = [];
const log = createLogger('info', { write: (line: string) => void lines.push(line) });
const waited = (botId: string) => lines.filter((l) => l.includes('waiting for our turn') && l.includes(`"bot":"${botId}"`));

describe.skipIf(!redisAvailable)('identify turns in Redis', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  let bots = 0;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  /** One throttler per process, each on its own connection, for the bot `botId`. */
  const processes = async (count: number, botId = `bot${++bots}`, maxConcurrency = 1) =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const redis = await connectRedis(server.url);
        clients.push(redis);
        return redisIdentifyThrottler({ redis, botId, maxConcurrency, log, spacingMs: SPACING });
      }),
    );

  /** Each shard's identify, asked of its own process at the same moment: when each was let through. */
  const identifyAll = async (throttlers: Awaited<ReturnType<typeof processes>>, shards: number[]) => {
    const times: number[] = [];
    await Promise.all(throttlers.map((t, i) => t.waitForIdentify(shards[i]!, new AbortController().signal).then(() => void times.push(Date.now()))));
    return times.sort((a, b) => a - b);
  };

  test('four processes asking at once identify one per spacing', async () => {
    const times = await identifyAll(await processes(4), [0, 1, 2, 3]);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(SPACING - 5);
  });

  test('buckets (shard % max_concurrency) and other bots do not wait for each other', async () => {
    // Shards 0 and 1 of a bot with max_concurrency 2: two buckets, both through at once.
    const [a, b] = await processes(2, 'big-bot', 2);
    await Promise.all([a!.waitForIdentify(0, new AbortController().signal), b!.waitForIdentify(1, new AbortController().signal)]);
    // Another bot on the same Redis, right after: its own turns.
    const [c] = await processes(1, 'small-bot');
    await c!.waitForIdentify(0, new AbortController().signal);
    expect([...waited('big-bot'), ...waited('small-bot')]).toEqual([]);
    // Shard 2 of the big bot shares shard 0's bucket: it waits.
    const [d] = await processes(1, 'big-bot', 2);
    await d!.waitForIdentify(2, new AbortController().signal);
    expect(waited('big-bot')).toHaveLength(1);
  });

  test('a shard closed while waiting stops waiting', async () => {
    const [a, b] = await processes(2, 'closing-bot');
    await a!.waitForIdentify(0, new AbortController().signal);
    const closed = new AbortController();
    const waiting = b!.waitForIdentify(1, closed.signal);
    closed.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
  });

  test('Redis away: a shard still identifies, a spacing later', async () => {
    const redis = await connectRedis(server.url);
    const throttler = redisIdentifyThrottler({ redis, botId: 'lonely-bot', maxConcurrency: 1, log, spacingMs: SPACING });
    redis.disconnect();
    const started = Date.now();
    await throttler.waitForIdentify(0, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(SPACING - 5);
  });
});
