// `npm start` with SHARD_COUNT=auto against the fakes: the built bundle runs as a manager that asks
// Discord for the shard count, starts one shard process per shard, restarts one killed with SIGKILL,
// sends every shard's Discord requests through its REST proxy, and stops them all on SIGTERM.
//
// Shard processes share the work through Redis (a throwaway redis-server here) and a PostgreSQL
// database: skipped, with a line saying why, without TEST_POSTGRES_URL (CI's PostgreSQL run sets it).
// That without SHARD_COUNT npm start stays one process is checked in the SQLite run.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGuild } from '../fakes/discord';
import { freePort } from '../browser';
import { createPostgresDatabase, dropPostgresDatabase, TEST_POSTGRES_URL, testingPostgres } from '../database';
import { createWorld, destroyWorld, opt, startProcess, until, type World } from '../harness';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

if (!TEST_POSTGRES_URL) console.warn('[gatepass tests] TEST_POSTGRES_URL is unset: the shard manager test (test/e2e/manager.test.ts) needs PostgreSQL and is skipped');
const runs = redisAvailable && TEST_POSTGRES_URL !== undefined;

let world: World;
let zero: FakeGuild;
let one: FakeGuild;
let manager: ReturnType<typeof startManager>;
let httpPort: number;
let redis: TestRedis;
/** One database for the manager's shard processes; the migrations are applied once, by the first. */
let databaseUrl: string;

/** `npm start` with shards: the manager process, configured through its environment only. */
const startManager = (w: World, httpPort: number, overrides: Record<string, string> = {}) =>
  startProcess(w, { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, SHARD_COUNT: 'auto', SYNC_CRON: '0 0 1 1 *', LOG_FORMAT: 'json', HTTP_PORT: String(httpPort), ...overrides });

const started = (shard: number) => manager.lines().filter((l) => l.msg === 'shard process started' && l.shard === shard).map((l) => Number(l.pid));
const identified = (shard: [number, number]) => world.discord.identifies.filter((s) => s[0] === shard[0] && s[1] === shard[1]).length;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** A command in the server, answered by whichever process Discord sent it to. */
const answered = (guild: FakeGuild) => world.discord.answer(world.discord.sendCommand(guild.id, guild.ownerId, 'bind', [opt.sub('list')]), 20_000);

beforeAll(async () => {
  if (!runs) return;
  redis = await startRedis();
  databaseUrl = await createPostgresDatabase(TEST_POSTGRES_URL!);
  world = await createWorld();
  zero = world.discord.addGuild('Shard Zero', { onShard: [0, 2] });
  one = world.discord.addGuild('Shard One', { onShard: [1, 2] });
  world.discord.recommendedShards = 2;
  httpPort = await freePort();
  manager = startManager(world, httpPort);
  await until(() => manager.lines().filter((l) => l.msg === 'connected to Discord').length === 2, 'both shard processes to connect', 50_000);
}, 60_000);
afterAll(async () => {
  if (!runs) return;
  if (manager.child.exitCode === null) manager.child.kill('SIGKILL');
  await destroyWorld(world);
  await dropPostgresDatabase(databaseUrl);
  await redis.stop();
});

describe.skipIf(!runs)('npm start with SHARD_COUNT=auto', () => {
  test("Discord's recommendation gives two shard processes, each identifying as its shard and holding its servers", async () => {
    // Shard processes take identify turns in Redis, in whichever order they ask.
    expect([...world.discord.identifies].sort()).toEqual([[0, 2], [1, 2]]);
    expect(manager.lines().find((l) => l.msg === 'starting shard processes')).toMatchObject({ shardCount: 2, auto: true, process: 'manager' });
    const connected = manager.lines().filter((l) => l.msg === 'connected to Discord');
    expect(connected.map((l) => [l.shard, l.shardCount]).sort()).toEqual([[0, 2], [1, 2]]);
    expect(new Set(started(0).concat(started(1))).size).toBe(2);
    // Each server's command reaches the process holding it, and is answered.
    expect(await answered(zero)).toBeTruthy();
    expect(await answered(one)).toBeTruthy();
  });

  test('each shard process serves its own health on HTTP_PORT plus its shard', async () => {
    for (const port of [httpPort, httpPort + 1]) {
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { gateway: string; database: string };
      expect(health).toMatchObject({ gateway: 'connected', database: 'ok' });
    }
  });

  test("every Discord request goes through the manager's proxy, with the bot's token", () => {
    const authenticated = world.discord.requests.filter((r) => r.template === '/gateway/bot' || r.template.startsWith('/applications/'));
    // The manager's own /gateway/bot, then each shard's, and each shard's command check.
    expect(authenticated.length).toBeGreaterThanOrEqual(5);
    expect(authenticated.every((r) => r.authorized && r.status === 200)).toBe(true);
    // discord.js's Client signs its requests "discord.js/…"; the proxy's bare REST queue does not.
    expect(world.discord.requests.filter((r) => r.userAgent.includes('discord.js/'))).toEqual([]);
  });

  test('a shard process killed with SIGKILL is started again and identifies again', async () => {
    const [victim] = started(1);
    process.kill(victim!, 'SIGKILL');
    await until(() => identified([1, 2]) === 2, 'shard 1 to identify again', 40_000);
    await until(() => manager.lines().filter((l) => l.msg === 'connected to Discord' && l.shard === 1).length === 2, 'shard 1 to connect again', 40_000);
    expect(manager.lines().some((l) => l.msg === 'shard process died; starting it again' && l.shard === 1)).toBe(true);
    expect(started(1)).toHaveLength(2);
    expect(identified([0, 2])).toBe(1); // shard 0 was left alone
    expect(await answered(one)).toBeTruthy();
  }, 60_000);

  test('SIGTERM stops the manager and every shard process cleanly', async () => {
    const pids = [...started(0), ...started(1)];
    manager.child.kill('SIGTERM');
    expect(await manager.exited).toBe(0);
    await until(() => pids.every((pid) => !alive(pid)), 'the shard processes to exit', 10_000);
    expect(manager.lines().filter((l) => l.msg === 'shutting down').length).toBeGreaterThanOrEqual(3);
    expect(manager.output()).not.toContain(world.config.discordToken);
    expect(world.discord.specErrors).toEqual([]);
  }, 30_000);
});

describe.skipIf(!runs)('npm start, other cases', () => {
  test('a shard that cannot start with this configuration stops the manager instead of being restarted forever', async () => {
    const broken = await createWorld();
    try {
      const wrong = `${broken.config.discordToken.slice(0, -4)}XXXX`;
      const run = startManager(broken, 0, { SHARD_COUNT: '2', DISCORD_TOKEN: wrong });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain('Discord rejected DISCORD_TOKEN');
      expect(run.lines().some((l) => l.msg === 'a shard process cannot start with this configuration; stopping all of them')).toBe(true);
      // Shard 1 may have been started meanwhile (5.5 s after shard 0); no shard was started twice.
      const starts = run.lines().filter((l) => l.msg === 'shard process started').map((l) => l.shard);
      expect(starts).toContain(0);
      expect(new Set(starts).size).toBe(starts.length);
      expect(run.output()).not.toContain(wrong);
    } finally {
      await destroyWorld(broken);
    }
  }, 60_000);
});

// Nothing of several processes here: the SQLite run covers it, and CI's PostgreSQL run has no time to spare.
describe.skipIf(testingPostgres())('npm start without shards', () => {
  test('SHARD_COUNT empty (as .env leaves it) or 1: one process as before, no manager', async () => {
    for (const value of ['', '1']) {
      const single = await createWorld();
      try {
        const bot = startProcess(single, { SHARD_COUNT: value, SYNC_CRON: '0 0 1 1 *', LOG_FORMAT: 'json' });
        await until(() => bot.lines().some((l) => l.msg === 'connected to Discord'), 'the bot to connect', 30_000);
        expect(single.discord.identifies).toEqual([[0, 1]]);
        expect(bot.lines().some((l) => l.process === 'manager' || l.shard !== undefined)).toBe(false);
        // No proxy between: the Client's own requests reach Discord.
        expect(single.discord.requests.some((r) => r.userAgent.includes('discord.js/'))).toBe(true);
        bot.child.kill('SIGTERM');
        expect(await bot.exited).toBe(0);
      } finally {
        await destroyWorld(single);
      }
    }
  }, 60_000);
});
