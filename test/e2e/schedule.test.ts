import { afterAll, beforeAll, expect, test } from 'vitest';
import { createWorld, destroyWorld, expectCleanRun, startTestBot, until, type World } from '../harness';

let world: World;
let vip: string;
const members: string[] = [];

beforeAll(async () => {
  world = await createWorld();
  const { discord, roblox, guild } = world;
  vip = discord.addRole(guild.id, 'VIP', { position: 3 });
  for (let i = 0; i < 30; i++) {
    const member = discord.addUser(`s${i}`);
    discord.addMember(guild.id, member);
    roblox.addUser({ id: String(4000 + i), name: `Sched${i}`, items: [{ kind: 'gamepass', id: '1001' }] });
    members.push(member);
  }
  // Roblox's budget scaled down: 4 requests per 400 ms, enforced by the fake as well.
  roblox.rateLimit = { perWindow: 4, windowMs: 400, sendRetryAfter: true };
  await startTestBot(world, { robloxInventoryRateLimit: 4 }, { robloxWindowMs: 400 });
  const db = world.bot!.db;
  await db.bind.create({ data: { guildId: guild.id, roleId: vip, kind: 'gamepass', itemId: '1001', createdBy: guild.ownerId } });
  for (const [i, member] of members.entries()) await db.link.create({ data: { discordUserId: member, robloxUserId: String(4000 + i), robloxUsername: `Sched${i}` } });
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

test('a cycle reads members in bulk, checks each once, and spends the budget without a 429', async () => {
  const restReadsBefore = world.discord.requests.filter((r) => r.template === '/guilds/{guild_id}/members/{user_id}').length;
  await world.bot!.runs.runAll('test');
  expect(world.discord.memberRequests).toEqual([{ guildId: world.guild.id, userIds: 30 }]);
  expect(world.discord.requests.filter((r) => r.template === '/guilds/{guild_id}/members/{user_id}').length).toBe(restReadsBefore);
  expect(world.roblox.count('inventory', 200)).toBe(30);
  expect(world.roblox.count('inventory', 429)).toBe(0);
  for (const member of members) expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);
});

test('/update jumps the queue of a running cycle', async () => {
  const last = members[members.length - 1]!;
  const run = world.bot!.runs.runAll('test');
  await until(() => world.roblox.count('inventory') >= 34, 'the cycle to be under way');
  const update = world.discord.sendCommand(world.guild.id, last, 'update');
  await world.discord.answer(update, 20_000);
  const checkedWhenAnswered = world.roblox.count('inventory') - 30;
  await run;
  // The last member of the queue was answered long before the cycle reached it.
  expect(checkedWhenAnswered).toBeLessThan(20);
  expect(world.roblox.count('inventory', 429)).toBe(0);
});

test('a tick that arrives during a cycle starts the next one as soon as it ends', async () => {
  const finished = () => world.bot!.db.syncRun.count({ where: { NOT: { finishedAt: null } } });
  const before = await finished();
  const first = world.bot!.runs.runAll('tick-1');
  await until(() => world.roblox.count('inventory') > 61 + 5, 'the first cycle to be under way');
  expect(await world.bot!.runs.runAll('tick-2')).toBeNull(); // no overlap: queued instead
  await first;
  expect(await finished()).toBe(before + 2);
  expect(await world.bot!.db.syncRun.count({ where: { finishedAt: null } })).toBe(0);
});

test('with the real cron: a tick that arrives mid-cycle is not dropped, the next cycle starts when this one ends', async () => {
  await world.bot!.stop();
  // Ticks 10 s apart: the held cycle's end and the next start must fall between two ticks even on a
  // loaded machine (4 s apart, a cycle slowed by other test files sometimes outlasted the gap).
  await startTestBot(world, { syncCron: '*/10 * * * * *', robloxInventoryRateLimit: 4 }, { robloxWindowMs: 400 });
  const db = world.bot!.db;
  // Each tick purges expired codes: an expired code gone means a tick has fired.
  const expiredCode = (id: string) => db.verification.create({ data: { id, discordUserId: id, robloxUserId: '1', robloxUsername: 'x', code: 'c', guildId: world.guild.id, expiresAt: new Date(0) } });
  const ticked = async (id: string) => (await db.verification.count({ where: { id } })) === 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  world.roblox.fault = (route) => (route === 'inventory' ? { hold: gate } : undefined);
  try {
    const runs = () => db.syncRun.count({ where: { trigger: 'schedule' } });
    const before = await runs();
    await until(async () => (await runs()) > before, 'a scheduled cycle to start', 25_000);
    await expiredCode('tick-a');
    await until(() => ticked('tick-a'), 'a tick while the cycle is held', 25_000);
    await expiredCode('tick-b');
    release();
    await until(async () => (await runs()) > before + 1, 'the next cycle', 25_000);
    // It began before any further tick: the tick that came mid-cycle started it.
    expect(await ticked('tick-b')).toBe(false);
  } finally {
    world.roblox.fault = undefined;
    release();
  }
}, 90_000);
