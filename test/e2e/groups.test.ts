// Group-rank binds and group atoms through the real commands, sync, /check and /metrics, against
// the fake Roblox's Open Cloud groups.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGuild } from '../fakes/discord';
import { createWorld, destroyWorld, expectCleanRun, metricValue, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
let a: FakeGuild;
let b: FakeGuild;
let base = '';
const roles = { member: '', officer: '', outsider: '', band: '', rule: '', other: '' };
const GUILD = '7001';
const CLAN = '7002';

beforeAll(async () => {
  world = await createWorld();
  a = world.guild;
  b = world.discord.addGuild('No Groups Here');
  roles.member = world.discord.addRole(a.id, 'Member', { position: 6 });
  roles.officer = world.discord.addRole(a.id, 'Officer', { position: 5 });
  roles.outsider = world.discord.addRole(a.id, 'Outsider', { position: 4 });
  roles.band = world.discord.addRole(a.id, 'Middle ranks', { position: 3 });
  roles.rule = world.discord.addRole(a.id, 'Clan officer with pass', { position: 2 });
  roles.other = world.discord.addRole(b.id, 'Pass B', { position: 2 });
  world.roblox.addGroup(GUILD, 'The Guild', [1, 50, 100, 200, 255]);
  world.roblox.addGroup(CLAN, 'Clan', [1, 10]);
  world.roblox.addItem('gamepass', '801', 'Clan Pass');
  const bot = await startTestBot(world, { httpPort: 0 });
  base = `http://127.0.0.1:${bot.httpPort}`;
  await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: a.channelId }])]));
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const bindCommand = (guild: FakeGuild, sub: string, options: Record<string, unknown>[]) => world.discord.answer(world.discord.sendCommand(guild.id, guild.ownerId, 'bind', [opt.sub(sub, options)]));
const addGroup = (role: string, id: number, ranks: { min?: number; max?: number } = {}) =>
  bindCommand(a, 'add', [opt.string('type', 'group'), opt.role('role', role), opt.integer('id', id), ...(ranks.min === undefined ? [] : [opt.integer('min-rank', ranks.min)]), ...(ranks.max === undefined ? [] : [opt.integer('max-rank', ranks.max)])]);
const binds = () => world.bot!.db.bind.findMany({ where: { guildId: a.id }, orderBy: { id: 'asc' } });
const has = (guild: FakeGuild, user: string) => world.discord.memberRoles(guild.id, user).sort();
const check = (user: string) => world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'check', [opt.user('member', user)]));
const update = (user: string) => world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'update', [opt.user('member', user)]));
const membershipReads = (from: number) => world.roblox.requests.slice(from).filter((r) => r.route === 'groupMemberships');

describe('/bind add type:group', () => {
  test('refuses an unknown group, a reversed range and options of other kinds, and stores nothing', async () => {
    expect(await addGroup(roles.member, 9999)).toMatch(/Roblox says there is no group with the id 9999\. Check the id .*Nothing was saved\./);
    expect(await addGroup(roles.band, Number(GUILD), { min: 200, max: 100 })).toContain('`min-rank` (200) is above `max-rank` (100)');
    expect(await bindCommand(a, 'add', [opt.string('type', 'group'), opt.role('role', roles.member), opt.integer('id', Number(GUILD)), opt.integer('count', 2)])).toContain('A group rank bind takes no `count`.');
    expect(await bindCommand(a, 'add', [opt.string('type', 'group'), opt.role('role', roles.member)])).toContain('needs the `id` of the Roblox group');
    expect(await binds()).toEqual([]);
  });

  test('stores the range as a rule and the group\'s name; /bind list and the log channel show "The Guild (7001)"', async () => {
    expect(await addGroup(roles.member, Number(GUILD))).toContain(`Bound <@&${roles.member}> to group The Guild (7001), any member (\`group:7001\`)`);
    expect(await addGroup(roles.officer, Number(GUILD), { min: 200 })).toContain('group The Guild (7001), rank 200 or higher (`group:7001>=200`)');
    expect(await addGroup(roles.outsider, Number(GUILD), { max: 0 })).toContain('group The Guild (7001), not a member (`group:7001<=0`)');
    expect(await addGroup(roles.band, Number(GUILD), { min: 50, max: 100 })).toContain('rank 50 to 100 (`group:7001>=50<=100`)');
    expect(await addGroup(roles.officer, Number(GUILD), { min: 200, max: 255 })).toContain('already bound');
    // Roblox cannot be asked: accepted, "name unknown", filled in later.
    world.roblox.fault = (route) => (route === 'group' ? { status: 503, body: '' } : undefined);
    try {
      expect(await addGroup(roles.member, Number(CLAN), { min: 10 })).toMatch(/group 7002 \(name unknown\), rank 10 or higher .*could not be asked for its name just now/);
    } finally {
      world.roblox.fault = undefined;
    }
    expect(await world.bot!.itemNames.fill()).toBe(1);
    expect((await binds()).map((row) => [row.kind, row.itemId, row.name])).toEqual([
      ['group', 'group:7001', 'The Guild'],
      ['group', 'group:7001>=200', 'The Guild'],
      ['group', 'group:7001<=0', 'The Guild'],
      ['group', 'group:7001>=50<=100', 'The Guild'],
      ['group', 'group:7002>=10', 'Clan'],
    ]);
    const list = await bindCommand(a, 'list', []);
    expect(list).toContain(`2. <@&${roles.officer}> ← group The Guild (7001), rank 200 or higher`);
    expect(list).toContain(`5. <@&${roles.member}> ← group Clan (7002), rank 10 or higher`);
    const posted = world.discord.channelMessages.filter((m) => m.guildId === a.id && m.content.startsWith('➕')).map((m) => m.content);
    expect(posted).toContainEqual(expect.stringContaining(`bound <@&${roles.outsider}> to group The Guild (7001), not a member`));
    // A rule with group atoms: its own bind kind, the same atoms.
    expect(await bindCommand(a, 'add', [opt.string('type', 'rule'), opt.role('role', roles.rule), opt.string('rule', 'GROUP:7002>=10 and gamepass:801')])).toContain('Read as `group:7002>=10 and gamepass:801`');
  });
});

describe('syncing group binds', () => {
  let officer = '';
  let outsider = '';
  let plain = '';

  test('roles follow the highest rank; one membership request for the batch, none for a member whose servers bind no group', async () => {
    world.roblox.addUser({ id: '9701', name: 'Officer', items: [{ kind: 'gamepass', id: '801' }] });
    world.roblox.addUser({ id: '9702', name: 'Outsider' });
    world.roblox.addUser({ id: '9703', name: 'Plain', items: [{ kind: 'gamepass', id: '801' }] });
    // Several roles at once: rank 50 and 200; the highest (200) counts, so not "50 to 100".
    world.roblox.setRanks(GUILD, '9701', [50, 200]);
    world.roblox.setRanks(CLAN, '9701', [10]);
    officer = newMember(world, a.id, 'officer');
    outsider = newMember(world, a.id, 'outsider');
    plain = newMember(world, b.id, 'plain');
    await bindCommand(b, 'add', [opt.string('type', 'gamepass'), opt.role('role', roles.other), opt.integer('id', 801)]);
    await verifyByProfile(world, a.id, officer, '9701');
    await verifyByProfile(world, a.id, outsider, '9702');
    await verifyByProfile(world, b.id, plain, '9703');
    expect(has(a, officer)).toEqual([roles.member, roles.officer, roles.rule].sort());
    expect(has(a, outsider)).toEqual([roles.outsider]);
    expect(has(b, plain)).toEqual([roles.other]);

    const before = world.roblox.requests.length;
    await world.bot!.runs.runAll('test');
    const reads = membershipReads(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.path).toBe('/cloud/v2/groups/-/memberships');
    expect(reads[0]!.query.filter).toMatch(/^user in \['users\/970[12]', 'users\/970[12]'\]$/);
    expect(reads[0]!.query.maxPageSize).toBe('100');
    // The roles were read once when first needed (and again when binds changed), not per member.
    expect(world.roblox.requests.slice(before).filter((r) => r.route === 'groupRoles')).toHaveLength(0);
    expect(has(a, officer)).toEqual([roles.member, roles.officer, roles.rule].sort());
  });

  test('/check shows each group bind with ✅ / ❌ / ❔, the rank seen and since when', async () => {
    const text = await check(officer);
    expect(text).toMatch(new RegExp(`✅ <@&${roles.officer}> ← group The Guild \\(7001\\), rank 200 or higher \\(\`group:7001>=200\`\\): rank 200 \\(since <t:\\d+:R>\\)`));
    expect(text).toMatch(new RegExp(`❌ <@&${roles.band}> ← group The Guild \\(7001\\), rank 50 to 100 \\(\`group:7001>=50<=100\`\\): rank 200 \\(since <t:\\d+:R>\\)`));
    expect(text).toContain('\u2003\u2003✅ `group:7002>=10`: rank 10');
    expect(await check(outsider)).toMatch(new RegExp(`✅ <@&${roles.outsider}> ← group The Guild \\(7001\\), not a member \\(\`group:7001<=0\`\\): not in the group`));
  });

  test.each([
    ['a 5xx', () => ({ status: 503, body: '' }), 'Roblox is unavailable; will retry'],
    ['a 429 with a long retry-after', () => ({ status: 429, body: { code: 'RESOURCE_EXHAUSTED' }, headers: { 'retry-after': '3600' } }), 'Roblox rate limit reached; will retry'],
    ['a malformed 200', () => ({ status: 200, body: { groupMemberships: [{ user: 'users/9701' }] } }), 'Roblox sent an answer the bot could not read'],
    ['a hang', () => ({ hang: true }), 'Roblox did not answer in time; will retry'],
  ])('%s keeps every group role, though the truth changed, and /check says why', async (_name, fault, reason) => {
    world.roblox.setRanks(GUILD, '9701', []);
    world.roblox.setRanks(GUILD, '9702', [1]);
    world.roblox.fault = (route) => (route === 'groupMemberships' ? fault() : undefined);
    try {
      await update(officer);
      await update(outsider);
    } finally {
      world.roblox.fault = undefined;
    }
    expect(has(a, officer)).toEqual([roles.member, roles.officer, roles.rule].sort());
    expect(has(a, outsider)).toEqual([roles.outsider]);
    expect(await check(officer)).toContain(`❔ <@&${roles.officer}> ← group The Guild (7001), rank 200 or higher (\`group:7001>=200\`): unknown: ${reason}`);
    world.roblox.setRanks(GUILD, '9701', [50, 200]);
    world.roblox.setRanks(GUILD, '9702', []);
  });

  test('an unreadable roles list keeps the role too; once readable, the new ranks decide', async () => {
    world.roblox.setRanks(GUILD, '9701', [100]);
    // Binds changing makes the roles be read afresh: here they cannot be.
    await bindCommand(a, 'remove', [opt.string('type', 'group'), opt.role('role', roles.band), opt.integer('id', Number(GUILD)), opt.integer('min-rank', 50), opt.integer('max-rank', 100)]);
    world.roblox.fault = (route) => (route === 'groupRoles' ? { status: 500, body: '' } : undefined);
    try {
      await update(officer);
    } finally {
      world.roblox.fault = undefined;
    }
    expect(has(a, officer)).toEqual([roles.member, roles.officer, roles.rule].sort());
    await addGroup(roles.band, Number(GUILD), { min: 50, max: 100 });
    await update(officer);
    expect(has(a, officer)).toEqual([roles.member, roles.band, roles.rule].sort());
    world.roblox.setRanks(GUILD, '9701', []);
    world.roblox.setRanks(CLAN, '9701', [1]);
    await update(officer);
    expect(has(a, officer)).toEqual([roles.outsider]);
    const removal = world.discord.roleWrites.find((w) => w.method === 'DELETE' && w.roleId === roles.rule);
    expect(removal?.reason).toContain('rule `GROUP:7002>=10 and gamepass:801`');
  });

  test('/metrics counts group requests apart', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (series: string) => metricValue(text, series);
    expect(value('gatepass_roblox_requests_total{endpoint="group_memberships",status="200"}')).toBe(world.roblox.requests.filter((r) => r.route === 'groupMemberships' && r.status === 200).length);
    expect(value('gatepass_roblox_requests_total{endpoint="group_roles",status="200"}')).toBe(world.roblox.requests.filter((r) => r.route === 'groupRoles' && r.status === 200).length);
    expect(value('gatepass_roblox_requests_total{endpoint="group_name",status="200"}')).toBeGreaterThan(0);
  });

  test('/bind remove takes a group bind by its options', async () => {
    expect(await bindCommand(a, 'remove', [opt.string('type', 'group'), opt.role('role', roles.outsider), opt.integer('id', Number(GUILD)), opt.integer('max-rank', 0)])).toContain(
      `Removed the bind of <@&${roles.outsider}> to group The Guild (7001), not a member`,
    );
    expect(await bindCommand(a, 'remove', [opt.string('type', 'group'), opt.role('role', roles.outsider), opt.integer('id', Number(GUILD))])).toContain('There is no bind');
  });
});
