// Queue mode (REDIS_URL): the real bot against the fakes and a throwaway redis-server. The cycle is
// planned as BullMQ jobs, waiting members go first, and two bot instances share one queue, one
// Roblox budget and one database file (SQLite with two clients works for a test; the product refuses
// it for real multi-process, which needs PostgreSQL).

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startBot, StartupError, type Bot } from '../../src/bot';
import { migrateDatabase, openDatabase } from '../../src/database/client';
import { createLogger } from '../../src/log';
import { Queue } from 'bullmq';
import { groupBind } from '../../src/bindings';
import { QUEUE_NAME, QUEUE_PREFIX } from '../../src/queue/jobs';
import { connectRedis } from '../../src/queue/redis';
import { gate } from '../fakes/roblox';
import { createWorld, destroyWorld, expectCleanRun, newMember, startTestBot, until, type World } from '../harness';
import { redisAvailable, startRedis, type TestRedis } from '../redis';
import { testingPostgres } from '../database';

/**
 * A cron pattern (with seconds) that fires once a minute, a few seconds from now: one scheduled tick
 * per test. The members are linked before any bot starts (`linkAll`), so the tick cannot come before
 * them however long start-up takes; starting on PostgreSQL (a database created per test) takes longer,
 * so the tick is set further off there, and the waits allow for a tick missed all the same, as the
 * next one comes a minute later.
 */
function onceSoon(inSeconds: number): string {
  const lead = testingPostgres() ? inSeconds + 15 : inSeconds;
  return `${new Date(Date.now() + lead * 1000).getSeconds()} * * * * *`;
}

/** Inventory reads per Roblox user id. */
function readsPerUser(world: World): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of world.roblox.requests) if (r.route === 'inventory' && r.status === 200) counts.set(r.userId!, (counts.get(r.userId!) ?? 0) + 1);
  return counts;
}

async function populate(world: World, count: number, firstId: number): Promise<{ vip: string; members: string[] }> {
  const { discord, roblox, guild } = world;
  const vip = discord.addRole(guild.id, 'VIP', { position: 3 });
  const members: string[] = [];
  for (let i = 0; i < count; i++) {
    const member = discord.addUser(`q${firstId + i}`);
    // They hold the role already: Discord's per-route limit on role writes would set the pace otherwise.
    discord.addMember(guild.id, member, [vip]);
    roblox.addUser({ id: String(firstId + i), name: `Queued${firstId + i}`, items: [{ kind: 'gamepass', id: '1001' }] });
    members.push(member);
  }
  // Roblox's window scaled down to a second, enforced by the fake as well.
  roblox.rateLimit = { perWindow: 100, windowMs: 1_000, sendRetryAfter: true };
  return { vip, members };
}

const FAST_WINDOW = { robloxWindowMs: 1_000 };

/** The bind and the members' links, stored before any bot starts (the database migrated first, as a start would). */
async function linkAll(world: World, vip: string, members: string[], firstId: number): Promise<void> {
  await migrateDatabase(world.config.databaseUrl);
  const db = openDatabase(world.config.databaseUrl);
  try {
    await db.bind.create({ data: { guildId: world.guild.id, roleId: vip, kind: 'gamepass', itemId: '1001', createdBy: world.guild.ownerId } });
    for (const [i, member] of members.entries()) await db.link.create({ data: { discordUserId: member, robloxUserId: String(firstId + i), robloxUsername: `Queued${firstId + i}` } });
  } finally {
    await db.$disconnect();
  }
}

const finishedRuns = (bot: Bot, trigger?: string) => bot.db.syncRun.count({ where: { NOT: { finishedAt: null }, ...(trigger ? { trigger } : {}) } });

describe.skipIf(!redisAvailable)('queue mode', () => {
  let redis: TestRedis;
  let world: World;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') console.log(world?.logs.slice(-40).join(''));
    if (world) {
      expectCleanRun(world);
      await destroyWorld(world);
    }
  });

  test('a scheduled cycle checks every linked member exactly once, spread over batch jobs', async () => {
    world = await createWorld();
    const { vip, members } = await populate(world, 150, 5000);
    await linkAll(world, vip, members, 5000);
    await startTestBot(world, { redisUrl: redis.url, syncCron: onceSoon(10) }, FAST_WINDOW);
    await until(async () => (await finishedRuns(world.bot!, 'schedule')) === 1, 'the scheduled run to finish', 100_000);
    const reads = readsPerUser(world);
    expect(reads.size).toBe(150);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    for (const member of members) expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);
    const run = await world.bot!.db.syncRun.findFirstOrThrow({ where: { trigger: 'schedule' } });
    expect(run.checked).toBe(150);
    expect(world.roblox.count('inventory', 429)).toBe(0);
  }, 150_000);

  test('/update and a join are answered ahead of a backlog of batch jobs', async () => {
    world = await createWorld();
    const { vip, members } = await populate(world, 150, 6000);
    // Ten reads a second: the cycle's 150 members are a fifteen-second backlog.
    world.roblox.rateLimit = { perWindow: 10, windowMs: 1_000, sendRetryAfter: true };
    await linkAll(world, vip, members, 6000);
    await startTestBot(world, { redisUrl: redis.url, robloxInventoryRateLimit: 10 }, FAST_WINDOW);
    const joiner = world.discord.addUser('late-joiner');
    world.roblox.addUser({ id: '6999', name: 'LateJoiner', items: [{ kind: 'gamepass', id: '1001' }] });
    await world.bot!.db.link.create({ data: { discordUserId: joiner, robloxUserId: '6999', robloxUsername: 'LateJoiner' } });
    await world.bot!.runs.runAll('test');
    await until(() => world.roblox.count('inventory') >= 5, 'the cycle to be under way', 20_000);
    // The last member linked is in the last batch of the plan.
    const last = members[members.length - 1]!;
    world.discord.setMemberRoles(world.guild.id, last, []);
    const update = world.discord.sendCommand(world.guild.id, last, 'update');
    world.discord.addMember(world.guild.id, joiner);
    await world.discord.answer(update, 20_000);
    await until(() => world.discord.memberRoles(world.guild.id, joiner).includes(vip), 'the joiner to get the role', 20_000);
    const readsWhenAnswered = world.roblox.count('inventory');
    expect(world.discord.memberRoles(world.guild.id, last)).toEqual([vip]);
    // Both were served long before the cycle reached them.
    expect(readsWhenAnswered).toBeLessThan(80);
    await until(async () => (await finishedRuns(world.bot!, 'test')) === 1, 'the run to finish', 40_000);
    expect(world.roblox.count('inventory', 429)).toBe(0);
  }, 90_000);

  test('/update is answered while batch jobs hold every slot of the sync worker, their Roblox reads held', async () => {
    world = await createWorld();
    const { discord, roblox, guild } = world;
    roblox.rateLimit = { perWindow: 100, windowMs: 1_000, sendRetryAfter: true };
    // The cycle's 400 members: a server binding a group, so each check waits on a group read.
    const ranked = discord.addRole(guild.id, 'Ranked', { position: 3 });
    roblox.addGroup('7100', 'Held Group', [1, 255]);
    const members = Array.from({ length: 400 }, (_, i) => {
      roblox.addUser({ id: String(9000 + i), name: `Grouped${9000 + i}` });
      return newMember(world, guild.id, `g${i}`);
    });
    // Who runs /update: in a server binding a game pass only, read with the inventory budget.
    const shop = discord.addGuild('Pass Shop');
    const vip = discord.addRole(shop.id, 'VIP', { position: 3 });
    roblox.addUser({ id: '9999', name: 'Impatient', items: [{ kind: 'gamepass', id: '1001' }] });
    const impatient = newMember(world, shop.id, 'impatient');
    const bot = await startTestBot(world, { redisUrl: redis.url }, FAST_WINDOW);
    await bot.db.bind.create({ data: { guildId: guild.id, roleId: ranked, kind: 'group', itemId: groupBind(ranked, '7100', 1, 255).itemId, createdBy: guild.ownerId } });
    await bot.db.bind.create({ data: { guildId: shop.id, roleId: vip, kind: 'gamepass', itemId: '1001', createdBy: shop.ownerId } });
    for (const [i, member] of members.entries()) await bot.db.link.create({ data: { discordUserId: member, robloxUserId: String(9000 + i), robloxUsername: `Grouped${9000 + i}` } });
    await bot.db.link.create({ data: { discordUserId: impatient, robloxUserId: '9999', robloxUsername: 'Impatient' } });
    const connection = await connectRedis(redis.url);
    const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    const held = gate();
    roblox.fault = (route) => (route === 'groupMemberships' ? { hold: held.promise } : undefined);
    try {
      await bot.runs.runAll('test');
      // Five batches: four taken, each waiting on Roblox, the fifth queued behind them.
      await until(async () => (await queue.getActiveCount()) === 4 && (await queue.getWaitingCount()) + (await queue.getPrioritizedCount()) >= 1, 'batch jobs in every slot of the sync worker', 30_000);
      await discord.answer(discord.sendCommand(shop.id, impatient, 'update'), 20_000);
      expect(discord.memberRoles(shop.id, impatient)).toEqual([vip]);
      // Not served by a slot a batch let go: they all still wait on Roblox.
      expect(await queue.getActiveCount()).toBe(4);
      expect(await bot.db.link.count({ where: { checkedAt: { not: null }, discordUserId: { not: impatient } } })).toBe(0);
    } finally {
      held.release();
      await queue.close();
      connection.disconnect();
    }
    await until(async () => (await finishedRuns(bot, 'test')) === 1, 'the run to finish', 60_000);
    roblox.fault = undefined;
    expect(world.roblox.count('inventory', 429)).toBe(0);
  }, 120_000);

  test("a member's lock Redis refuses: the batch's members stay unchecked with their roles as they were, and the batch's retry checks them", async () => {
    world = await createWorld();
    const { vip, members } = await populate(world, 30, 7000);
    // They own the pass but lack its role: any check of them adds it.
    for (const member of members) world.discord.setMemberRoles(world.guild.id, member, []);
    await linkAll(world, vip, members, 7000);
    await startTestBot(world, { redisUrl: redis.url }, FAST_WINDOW);
    const admin = await connectRedis(redis.url);
    const held = gate();
    let failures = 0;
    try {
      // Every key but the member locks' (gatepass:member-lock:…): taking a lock is all that fails.
      await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~gatepass:[^m]*');
      world.bot!.queue!.worker()!.on('failed', (job) => {
        if (job?.name !== 'batch' || failures++ > 0) return;
        // Before the retry (a second later) can take the locks: its reads wait at Roblox until released.
        world.roblox.fault = (route) => (route === 'inventory' ? { hold: held.promise } : undefined);
        void admin.call('ACL', 'SETUSER', 'default', 'allkeys');
      });
      await world.bot!.runs.runAll('test');
      await until(() => failures > 0, "the batch's first attempt to fail", 30_000);
      const run = await world.bot!.db.syncRun.findFirstOrThrow({ where: { trigger: 'test' } });
      expect(await world.bot!.db.link.count({ where: { checkedAt: { gte: run.startedAt } } })).toBe(0);
      expect(world.discord.roleWrites).toEqual([]);
      expect(world.roblox.count('inventory')).toBe(0);
      expect(world.logs.some((line) => line.includes('queued sync job failed') && line.includes('NOPERM'))).toBe(true);
    } finally {
      held.release();
      await admin.call('ACL', 'SETUSER', 'default', 'allkeys');
      admin.disconnect();
    }
    await until(async () => (await finishedRuns(world.bot!, 'test')) === 1, 'the run to finish', 60_000);
    world.roblox.fault = undefined;
    const reads = readsPerUser(world);
    expect(reads.size).toBe(30);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    for (const member of members) expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);
    expect((await world.bot!.db.syncRun.findFirstOrThrow({ where: { trigger: 'test' } })).checked).toBe(30);
  }, 90_000);

  test('Redis unreachable at start: one clear line, nothing started', async () => {
    world = await createWorld();
    const gone = await startRedis();
    await gone.stop();
    const log = createLogger('silent');
    const started = startBot({ ...world.config, redisUrl: `redis://user:hunter2@${new URL(gone.url).host}` }, { log });
    await expect(started).rejects.toBeInstanceOf(StartupError);
    const message = await started.catch((error: Error) => error.message);
    expect(message).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+ \(REDIS_URL\) could not be reached: .*ECONNREFUSED/);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('\n');
  });

  test('two bot instances on one Redis and one database: each member checked exactly once across both', async () => {
    world = await createWorld();
    const { vip, members } = await populate(world, 300, 8000);
    await linkAll(world, vip, members, 8000);
    const cron = onceSoon(12);
    const first = await startTestBot(world, { redisUrl: redis.url, syncCron: cron }, FAST_WINDOW);
    const secondLogs: string[] = [];
    const second = await startBot({ ...world.config, redisUrl: redis.url, syncCron: cron }, { log: createLogger('debug', { write: (line: string) => void secondLogs.push(line) }), robloxWindowMs: 1_000, robloxHttp: { timeoutMs: 1_000, backoffBaseMs: 20, maxRetryWaitMs: 5_000 } });
    try {
      const took = new Map<Bot, number>([[first, 0], [second, 0]]);
      for (const bot of [first, second]) bot.queue!.worker()!.on('completed', (job) => job.name === 'batch' && took.set(bot, took.get(bot)! + 1));
      await until(async () => (await finishedRuns(first, 'schedule')) === 1, 'the scheduled run to finish', 100_000);
      // One tick for both processes: one run.
      expect(await first.db.syncRun.count()).toBe(1);
      const reads = readsPerUser(world);
      expect(reads.size).toBe(300);
      expect([...reads.values()].every((n) => n === 1)).toBe(true);
      expect(took.get(first)! + took.get(second)!).toBe(3);
      console.log(`batches taken: first ${took.get(first)}, second ${took.get(second)}`);
      for (const member of members) expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);
    } finally {
      await second.stop();
    }
  }, 150_000);
});
