import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/clock';
import { redisMemberLock } from '../../src/queue/lock';
import { connectRedis } from '../../src/queue/redis';
import { localMemberLock } from '../../src/sync/memberlock';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

/** A promise the test settles by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

test('in one process, work on one member runs in turn and work on others does not wait', async () => {
  const lock = localMemberLock();
  const order: string[] = [];
  const first = gate();
  const a1 = lock('a', async () => {
    order.push('a1 start');
    await first.opened;
    order.push('a1 end');
  });
  const a2 = lock('a', async () => void order.push('a2'));
  await lock('b', async () => void order.push('b'));
  first.open();
  await Promise.all([a1, a2]);
  expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
});

describe.skipIf(!redisAvailable)('a member lock across processes', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });
  const connect = async () => {
    const redis = await connectRedis(server.url);
    clients.push(redis);
    return redis;
  };

  test('two processes never hold one member at once; other members are not held up', async () => {
    const one = redisMemberLock({ redis: await connect(), clock: systemClock });
    const two = redisMemberLock({ redis: await connect(), clock: systemClock });
    const order: string[] = [];
    const held = gate();
    const entered = gate();
    const first = one('m', async () => {
      order.push('one start');
      entered.open();
      await held.opened;
      order.push('one end');
    });
    await entered.opened;
    const second = two('m', async () => void order.push('two'));
    await two('other', async () => void order.push('two other'));
    // Process two is still waiting for `m` while one holds it.
    expect(order).toEqual(['one start', 'two other']);
    held.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['one start', 'two other', 'one end', 'two']);
  });

  test('a holder is renewed past its ttl while it works', async () => {
    const one = redisMemberLock({ redis: await connect(), clock: systemClock, ttlMs: 150 });
    const two = redisMemberLock({ redis: await connect(), clock: systemClock, ttlMs: 150 });
    const order: string[] = [];
    const entered = gate();
    const first = one('slow', async () => {
      entered.open();
      await new Promise((resolve) => setTimeout(resolve, 500));
      order.push('one done');
    });
    await entered.opened;
    await two('slow', async () => void order.push('two'));
    await first;
    expect(order).toEqual(['one done', 'two']);
  });

  test("a dead holder's lock expires and another process goes on", async () => {
    const redis = await connect();
    // A process that took the lock and was killed: its key stays, with nobody to renew or release it.
    await redis.set('gatepass:member-lock:dead', 'someone-else', 'PX', 300);
    const two = redisMemberLock({ redis: await connect(), clock: systemClock, ttlMs: 300 });
    expect(await two('dead', async () => 'ran')).toBe('ran');
  });

  test('only the holder releases: a late release of an expired lock leaves the new holder alone', async () => {
    const redis = await connect();
    const one = redisMemberLock({ redis, clock: systemClock, ttlMs: 10_000 });
    await one('x', async () => {
      // Someone else's lock appears under the key (as if ours had expired and been retaken).
      await redis.set('gatepass:member-lock:x', 'another-holder', 'PX', 10_000);
    });
    expect(await redis.get('gatepass:member-lock:x')).toBe('another-holder');
  });
});
