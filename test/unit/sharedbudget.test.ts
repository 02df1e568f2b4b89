import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/clock';
import { SharedRateBudget } from '../../src/queue/budget';
import { DEFAULT_HTTP_OPTIONS } from '../../src/roblox/http';
import { connectRedis } from '../../src/queue/redis';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

describe.skipIf(!redisAvailable)('one Roblox budget shared through Redis', () => {
  let server: TestRedis;
  const clients: Redis[] = [];
  let keys = 0;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  /** Two processes' budgets for one key owner: each with its own connection. */
  async function pair(limit: number, windowMs: number, extra: Partial<ConstructorParameters<typeof SharedRateBudget>[0]> = {}) {
    const key = `test:${++keys}`;
    const make = async () => {
      const redis = await connectRedis(server.url);
      clients.push(redis);
      const budget = new SharedRateBudget({ redis, key, limit, windowMs, clock: systemClock, ...extra });
      // As once Roblox has answered: up to maxInFlight at once in this process.
      budget.observe(100, 60);
      return budget;
    };
    return [await make(), await make()] as const;
  }

  test('two processes never together exceed the limit in any rolling window', async () => {
    const limit = 5;
    const windowMs = 400;
    const [a, b] = await pair(limit, windowMs);
    const requests: { start: number; land: number }[] = [];
    const call = async (budget: SharedRateBudget, ms: number) => {
      const landed = await budget.take();
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      requests.push({ start, land: Date.now() });
      landed();
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => call(i % 2 === 0 ? a : b, 5 + (i % 3) * 10)));
    expect(requests).toHaveLength(24);
    // Whenever a request started, the requests whose slots still counted (started, and landed less
    // than a window before) are at most the limit, itself included.
    for (const j of requests) {
      const counted = requests.filter((i) => i.start <= j.start && i.land > j.start - windowMs).length;
      expect(counted).toBeLessThanOrEqual(limit);
    }
    // And the work did get done across the windows it needed, not in one burst.
    const span = Math.max(...requests.map((r) => r.start)) - Math.min(...requests.map((r) => r.start));
    expect(span).toBeGreaterThanOrEqual(Math.floor(24 / limit - 1) * windowMs);
  });

  test('a pause heard by one process stops the other', async () => {
    const [a, b] = await pair(100, 60_000);
    const asked = Date.now();
    a.pauseFor(400);
    // Let the pause reach Redis (it is sent without waiting, as a retry-after is heard mid-request).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const landed = await b.take();
    expect(Date.now() - asked).toBeGreaterThanOrEqual(400);
    landed();
  });

  test('an exhausted x-ratelimit window seen by one process pauses the other', async () => {
    const [a, b] = await pair(100, 60_000);
    const asked = Date.now();
    a.observe(0, 0.3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    (await b.take())();
    expect(Date.now() - asked).toBeGreaterThanOrEqual(300);
  });

  test("a dead process's slot in flight frees itself at its deadline", async () => {
    const [a, b] = await pair(100, 200, { maxInFlight: 1, inFlightMs: 300 });
    const started = Date.now();
    await a.take(); // never released: its process "died" mid-request
    (await b.take())();
    // Free once the deadline passed; then it counts as landed at the deadline, within the limit.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test('by default a slot counts as in flight until a little past the request timeout, no longer', async () => {
    const [a] = await pair(100, 60_000);
    const redis = clients.at(-1)!;
    await a.take(); // never landed, as if its process died mid-request
    const [, deadline] = await redis.zrange(`test:${keys}:slots`, '0', '0', 'WITHSCORES');
    const [seconds, micros] = await redis.time();
    const left = Number(deadline) - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
    // A live request is aborted at the timeout: its slot outlasts it, and a dead process's frees soon after.
    expect(left).toBeGreaterThan(DEFAULT_HTTP_OPTIONS.timeoutMs);
    expect(left).toBeLessThanOrEqual(DEFAULT_HTTP_OPTIONS.timeoutMs + 5_000);
  });

  test('Redis gone: a take fails instead of hanging', async () => {
    const own = await startRedis();
    const redis = await connectRedis(own.url);
    const budget = new SharedRateBudget({ redis, key: 'gone', limit: 10, windowMs: 1_000, clock: systemClock });
    (await budget.take())();
    await own.kill();
    await expect(budget.take()).rejects.toThrow();
    redis.disconnect();
  });
});
