import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGuild } from '../fakes/discord';
import { bind, createWorld, ROBLOX_KEY, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let a: FakeGuild;
let b: FakeGuild;
const roles = { vip: '', badge: '', gold: '', asset: '', verified: '' };

beforeAll(async () => {
  world = await createWorld();
  a = world.guild;
  b = world.discord.addGuild('Second Server');
  roles.vip = world.discord.addRole(a.id, 'VIP', { position: 3 });
  roles.badge = world.discord.addRole(a.id, 'Badge Holder', { position: 2 });
  roles.verified = world.discord.addRole(a.id, 'Verified', { position: 1 });
  roles.gold = world.discord.addRole(b.id, 'Gold', { position: 3 });
  roles.asset = world.discord.addRole(b.id, 'Hat Owner', { position: 2 });
  world.roblox.addItem('gamepass', '1001', 'VIP Pass');
  world.roblox.addItem('badge', '2002', 'Winner');
  world.roblox.addItem('asset', '3003', 'Gold Hat');
  world.roblox.addItem('badge', '4004', 'Perk Badge');
  // A run every second spends Roblox's real 100/min within a minute; the limit is tested elsewhere.
  await startTestBot(world, { syncCron: '* * * * * *', robloxInventoryRateLimit: 6_000 });
  await bind(world, a.id, roles.vip, 'gamepass', 1001);
  await bind(world, a.id, roles.badge, 'badge', 2002);
  await bind(world, a.id, roles.verified, 'verified');
  await bind(world, b.id, roles.gold, 'gamepass', 1001);
  await bind(world, b.id, roles.asset, 'asset', 3003);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const finishedRuns = () => world.bot!.db.syncRun.count({ where: { NOT: { finishedAt: null } } });
async function waitRuns(n: number): Promise<void> {
  const target = (await finishedRuns()) + n;
  // A bound, not a pace: runs come every second, but a loaded machine can take several for one.
  await until(async () => (await finishedRuns()) >= target, `${n} more sync runs`, 30_000);
}
const has = (guild: FakeGuild, user: string) => world.discord.memberRoles(guild.id, user).sort();

let firstMember = '';
const member = () => firstMember;

describe('scheduled re-checks', () => {
  let member: string;

  test('one inventory request per member covers every bound item of every shared server', async () => {
    world.roblox.addUser({ id: '9001', name: 'Owner', items: [{ kind: 'gamepass', id: '1001' }] });
    member = newMember(world, a.id, 'owner');
    firstMember = member;
    world.discord.addMember(b.id, member);
    await verifyByProfile(world, a.id, member, '9001');
    expect(has(a, member)).toEqual([roles.vip, roles.verified].sort());
    expect(has(b, member)).toEqual([roles.gold]);
    const before = world.roblox.requests.length;
    await waitRuns(2);
    const requests = world.roblox.requests.slice(before).filter((r) => r.route === 'inventory' && r.userId === '9001');
    const runs = await finishedRuns();
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.length).toBeLessThanOrEqual(runs); // never more than one per member per run
    for (const r of requests) expect(r.query.filter).toBe('assetIds=3003;badgeIds=2002;gamePassIds=1001');
  });

  test('a run in which nothing changed makes no Discord writes', async () => {
    const writes = world.discord.roleWrites.length;
    await waitRuns(2);
    expect(world.discord.roleWrites.length).toBe(writes);
  });

  test('the schedule grants what was bought and revokes what is gone, in every server', async () => {
    world.roblox.give('9001', 'badge', '2002');
    world.roblox.give('9001', 'asset', '3003');
    await until(() => has(a, member).includes(roles.badge) && has(b, member).includes(roles.asset), 'cron grant', 15_000);
    world.roblox.take('9001', 'gamepass', '1001');
    await until(() => !has(a, member).includes(roles.vip) && !has(b, member).includes(roles.gold), 'cron revoke', 15_000);
    expect(has(a, member)).toEqual([roles.badge, roles.verified].sort());
    expect(has(b, member)).toEqual([roles.asset]);
    const removal = world.discord.roleWrites.find((w) => w.method === 'DELETE' && w.roleId === roles.vip);
    expect(removal?.reason).toBe('gatepass: Roblox Owner does not have game pass VIP Pass (1001)');
  });

  test.each<[string, () => unknown, () => unknown]>([
    ['a private inventory', () => (world.roblox.users.get('9001')!.inventoryPublic = false), () => (world.roblox.users.get('9001')!.inventoryPublic = true)],
    ['Roblox 500s', () => (world.roblox.fault = (route) => (route === 'inventory' ? { status: 500, body: { code: 'INTERNAL' } } : undefined)), () => (world.roblox.fault = undefined)],
    ['Roblox timing out', () => (world.roblox.fault = (route) => (route === 'inventory' ? { hang: true } : undefined)), () => (world.roblox.fault = undefined)],
    ['malformed JSON', () => (world.roblox.fault = (route) => (route === 'inventory' ? { status: 200, body: '<html>oops' } : undefined)), () => (world.roblox.fault = undefined)],
    ['a 429 with a long retry-after', () => (world.roblox.fault = (route) => (route === 'inventory' ? { status: 429, body: { code: 'RESOURCE_EXHAUSTED' }, headers: { 'retry-after': '3600' } } : undefined)), () => (world.roblox.fault = undefined)],
  ])('%s: unknown outcomes keep every role, even for items truly gone', async (_name, breakIt, fixIt) => {
    const before = { a: has(a, member), b: has(b, member) };
    world.roblox.take('9001', 'badge', '2002'); // truly gone, but the bot cannot know it
    breakIt();
    try {
      await waitRuns(2);
      expect(has(a, member)).toEqual(before.a);
      expect(has(b, member)).toEqual(before.b);
      const stored = await world.bot!.db.outcome.findUnique({ where: { robloxUserId_kind_itemId: { robloxUserId: '9001', kind: 'badge', itemId: '2002' } } });
      expect(stored?.status).toBe('unknown');
    } finally {
      fixIt();
      world.roblox.give('9001', 'badge', '2002');
    }
  });
});

describe('joins, leaves, and roles that changed under the bot', () => {
  test('a linked member who joins another server gets its roles within seconds', async () => {
    world.roblox.addUser({ id: '9002', name: 'Joiner', items: [{ kind: 'gamepass', id: '1001' }] });
    const joiner = newMember(world, a.id, 'joiner');
    await verifyByProfile(world, a.id, joiner, '9002');
    world.discord.addMember(b.id, joiner);
    await until(() => has(b, joiner).includes(roles.gold), 'join-time sync', 5_000);
  });

  test('a member who left is skipped without a crash or a retry loop', async () => {
    world.roblox.addUser({ id: '9003', name: 'Leaver', items: [{ kind: 'gamepass', id: '1001' }] });
    const leaver = newMember(world, a.id, 'leaver');
    world.discord.addMember(b.id, leaver);
    await verifyByProfile(world, a.id, leaver, '9003');
    world.discord.removeMember(b.id, leaver);
    await waitRuns(2);
    expect(await world.bot!.db.memberSync.findUnique({ where: { guildId_discordUserId: { guildId: b.id, discordUserId: leaver } } })).toBeNull();
    expect(world.discord.roleWrites.filter((w) => w.guildId === b.id && w.userId === leaver && w.status !== 204)).toEqual([]);
  });

  test('a bound role above the bot is never written, and /check says why', async () => {
    const top = world.discord.addRole(a.id, 'Top', { position: 50 });
    // Bound earlier, before someone moved it above the bot; /bind would refuse it now.
    await world.bot!.db.bind.create({ data: { guildId: a.id, roleId: top, kind: 'gamepass', itemId: '1001', createdBy: a.ownerId } });
    world.roblox.addUser({ id: '9004', name: 'Climber', items: [{ kind: 'gamepass', id: '1001' }] });
    const climber = newMember(world, a.id, 'climber');
    const reply = await verifyByProfile(world, a.id, climber, '9004');
    expect(reply).toContain(`cannot add @Top: @Top is not below the bot's highest role`);
    await waitRuns(1);
    expect(world.discord.roleWrites.filter((w) => w.roleId === top)).toEqual([]);
    const check = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'check', [opt.user('member', climber)]));
    expect(check).toContain(`Blocked:\n• <@&${top}>: @Top is not below the bot's highest role`);
    // The problem is kept per member and server (the sync writes these rows with raw SQL; Prisma reads them back).
    const followed = await world.bot!.db.memberSync.findUnique({ where: { guildId_discordUserId: { guildId: a.id, discordUserId: climber } } });
    expect(followed?.problem).toContain(`cannot add @Top: @Top is not below the bot's highest role`);
    expect(Math.abs(followed!.since.getTime() - Date.now())).toBeLessThan(60_000);
    expect(check).toContain(`Problem here since <t:${Math.floor(followed!.since.getTime() / 1000)}:`);
    await world.bot!.db.bind.deleteMany({ where: { roleId: top } });
  });

  test('a deleted bound role stops nothing else', async () => {
    const doomed = world.discord.addRole(a.id, 'Doomed', { position: 4 });
    await bind(world, a.id, doomed, 'gamepass', 1001);
    world.roblox.addUser({ id: '9005', name: 'Survivor', items: [{ kind: 'gamepass', id: '1001' }] });
    const survivor = newMember(world, a.id, 'survivor');
    world.discord.deleteRole(a.id, doomed);
    // Its bind goes with it; the server's other binds work as before.
    await until(async () => (await world.bot!.db.bind.count({ where: { roleId: doomed } })) === 0, 'the dead bind to be removed');
    const reply = await verifyByProfile(world, a.id, survivor, '9005');
    expect(reply).not.toContain('Doomed');
    expect(has(a, survivor)).toEqual([roles.vip, roles.verified].sort());
  });

  test('Discord refusing a write (50013) is reported, not retried in a loop', async () => {
    world.roblox.addUser({ id: '9006', name: 'Refused', items: [{ kind: 'gamepass', id: '1001' }] });
    const refused = newMember(world, a.id, 'refused');
    world.discord.fault = (method, template, params) =>
      template.endsWith('/roles/{role_id}') && params.user_id === refused ? { status: 403, body: { code: 50013, message: 'Missing Permissions' } } : undefined;
    try {
      const reply = await verifyByProfile(world, a.id, refused, '9006');
      expect(reply).toContain('Discord refused to change @VIP (Missing Permissions)');
      const attempts = world.discord.requests.filter((r) => r.path.includes(`/members/${refused}/roles/`)).length;
      expect(attempts).toBe(2); // one per wanted role, no retries
    } finally {
      world.discord.fault = undefined;
    }
  });
});

describe('the schedule itself', () => {
  test('runs never overlap, even when a run outlasts the one-second tick', async () => {
    world.roblox.fault = (route) => (route === 'inventory' ? { delayMs: 400 } : undefined); // every run now takes seconds
    try {
      await waitRuns(2);
    } finally {
      world.roblox.fault = undefined;
    }
    const events = world.logs.map((line) => JSON.parse(line) as { msg: string }).filter((e) => e.msg === 'sync run started' || e.msg === 'sync run ended');
    events.forEach((event, i) => expect(event.msg).toBe(i % 2 === 0 ? 'sync run started' : 'sync run ended'));
    expect(await world.bot!.db.syncRun.count({ where: { finishedAt: null } })).toBeLessThanOrEqual(1);
  });
});

describe('refused writes are not repeated', () => {
  test('after a 50013 on a role, nobody is written that role again until the roles change', async () => {
    const perk = world.discord.addRole(a.id, 'Perk', { position: 5 });
    await bind(world, a.id, perk, 'badge', 4004);
    world.discord.fault = (method, template, params) => (template.endsWith('/roles/{role_id}') && params.role_id === perk ? { status: 403, body: { code: 50013, message: 'Missing Permissions' } } : undefined);
    try {
      const users = ['9101', '9102', '9103'].map((id, i) => {
        world.roblox.addUser({ id, name: `Perky${i}`, items: [{ kind: 'badge', id: '4004' }] });
        return newMember(world, a.id, `perky${i}`);
      });
      for (const [i, user] of users.entries()) await verifyByProfile(world, a.id, user, ['9101', '9102', '9103'][i]!);
      await waitRuns(2);
      expect(world.discord.requests.filter((r) => r.path.endsWith(`/roles/${perk}`))).toHaveLength(1);
      const check = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'check', [opt.user('member', users[2]!)]));
      expect(check).toContain(`<@&${perk}>: Discord refused to change @Perk (Missing Permissions); the bot tries again once the server's roles or its own permissions change`);
      world.discord.fault = undefined;
      world.discord.updateRole(a.id, perk, { position: 4 }); // an admin fixes the hierarchy
      await until(() => users.every((u) => has(a, u).includes(perk)), 'the role to be given after the fix', 15_000);
    } finally {
      world.discord.fault = undefined;
    }
  });
});

describe('on demand', () => {
  test('/update re-checks now; /sync re-checks the whole server; /unlink removes bound roles at once', async () => {
    world.roblox.addUser({ id: '9007', name: 'Demand', items: [] });
    const user = newMember(world, a.id, 'demand');
    world.discord.addMember(b.id, user);
    await verifyByProfile(world, a.id, user, '9007');
    expect(has(a, user)).toEqual([roles.verified]);

    world.roblox.give('9007', 'gamepass', '1001');
    const update = await world.discord.answer(world.discord.sendCommand(a.id, user, 'update'));
    expect(update).toContain(`Roles given: <@&${roles.vip}>`);
    expect(has(b, user)).toEqual([roles.gold]); // the same check fixed the other server too

    world.roblox.give('9007', 'badge', '2002');
    const sync = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'sync'));
    expect(sync).toMatch(/Sync finished: re-checked \d+ linked member\(s\)/);
    expect(has(a, user)).toContain(roles.badge);

    const unlink = await world.discord.answer(world.discord.sendCommand(a.id, user, 'unlink'));
    expect(unlink).toContain('Unlinked **Demand**');
    expect(has(a, user)).toEqual([]);
    expect(has(b, user)).toEqual([]);
    expect(await world.bot!.db.link.findUnique({ where: { discordUserId: user } })).toBeNull();
    expect(await world.discord.answer(world.discord.sendCommand(a.id, user, 'unlink'))).toContain('no linked Roblox account');
    expect(await world.discord.answer(world.discord.sendCommand(a.id, user, 'update'))).toContain('not linked a Roblox account');
  });
});

describe('a rejected API key', () => {
  test('pauses checks, logs it once, keeps roles, and recovers by itself', async () => {
    const logged = (msg: string) => world.logs.filter((line) => line.includes(msg)).length;
    const before = { a: has(a, member()), rejected: logged('Roblox rejected ROBLOX_API_KEY'), recovered: logged('accepts ROBLOX_API_KEY again') };
    const members = await world.bot!.db.link.count();
    expect(members).toBeGreaterThanOrEqual(4);
    world.roblox.apiKeys.delete(ROBLOX_KEY);
    try {
      const sentBefore = world.roblox.requests.length;
      await waitRuns(4);
      // The requests already in flight, then one probe per backoff: far fewer than a request per member per run.
      expect(world.roblox.requests.length - sentBefore).toBeLessThan((members * 4) / 2);
      expect(has(a, member())).toEqual(before.a);
      expect(logged('Roblox rejected ROBLOX_API_KEY') - before.rejected).toBe(1);
    } finally {
      world.roblox.apiKeys.set(ROBLOX_KEY, 'owner-1');
    }
    await until(() => logged('accepts ROBLOX_API_KEY again') > before.recovered, 'recovery', 15_000);
    await waitRuns(1);
    const outcome = await world.bot!.db.outcome.findUnique({ where: { robloxUserId_kind_itemId: { robloxUserId: '9001', kind: 'badge', itemId: '2002' } } });
    expect(outcome?.status).toBe('owns');
  }, 90_000);
});
