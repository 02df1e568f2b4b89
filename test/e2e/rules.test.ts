// Collectible and rule binds through the real commands, sync and /check, against the fakes.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGuild } from '../fakes/discord';
import type { FakeItem } from '../fakes/roblox';
import { bind, createWorld, destroyWorld, expectCleanRun, metricValue, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
let a: FakeGuild;
let b: FakeGuild;
let base = '';
const roles = { collector: '', veteran: '', plain: '', other: '' };

beforeAll(async () => {
  world = await createWorld();
  a = world.guild;
  b = world.discord.addGuild('Plain Server');
  roles.collector = world.discord.addRole(a.id, 'Collector', { position: 4 });
  roles.veteran = world.discord.addRole(a.id, 'Veteran', { position: 3 });
  roles.plain = world.discord.addRole(a.id, 'Pass', { position: 2 });
  roles.other = world.discord.addRole(b.id, 'Pass B', { position: 2 });
  world.roblox.addItem('gamepass', '601', 'Season Pass');
  const bot = await startTestBot(world, { httpPort: 0 });
  base = `http://127.0.0.1:${bot.httpPort}`;
  await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: a.channelId }])]));
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const binds = () => world.bot!.db.bind.findMany({ where: { guildId: a.id }, orderBy: { id: 'asc' } });
const bindCommand = (sub: string, options: Record<string, unknown>[]) => world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'bind', [opt.sub(sub, options)]));
const addCollectible = (role: string, count?: number, types?: string) =>
  bindCommand('add', [opt.string('type', 'collectible'), opt.role('role', role), ...(count === undefined ? [] : [opt.integer('count', count)]), ...(types === undefined ? [] : [opt.string('asset-types', types)])]);
const addRule = (role: string, rule: string) => bindCommand('add', [opt.string('type', 'rule'), opt.role('role', role), opt.string('rule', rule)]);
const posted = () => world.discord.channelMessages.filter((m) => m.guildId === a.id).map((m) => m.content);
const has = (guild: FakeGuild, user: string) => world.discord.memberRoles(guild.id, user).sort();
const limited = (id: number, assetType: string): FakeItem => ({ kind: 'asset', id: String(id), assetType, collectible: true });

describe('/bind add for collectibles and rules', () => {
  test('registered with count, asset-types and rule options; remove also takes the number /bind list shows', () => {
    const command = world.discord.globalCommands.find((c) => c.name === 'bind')!;
    const subs = command.options as { name: string; options: { name: string; required?: boolean; choices?: { value: string }[]; max_length?: number }[] }[];
    const add = subs.find((s) => s.name === 'add')!;
    expect(add.options.map((o) => o.name)).toEqual(['type', 'role', 'id', 'count', 'asset-types', 'rule', 'min-rank', 'max-rank']);
    expect(add.options[0]!.choices!.map((c) => c.value)).toEqual(['gamepass', 'badge', 'asset', 'privateserver', 'verified', 'collectible', 'rule', 'group']);
    expect(add.options.find((o) => o.name === 'rule')!.max_length).toBe(300);
    const remove = subs.find((s) => s.name === 'remove')!;
    expect(remove.options.map((o) => [o.name, o.required ?? false])).toEqual([
      ['type', false],
      ['role', false],
      ['id', false],
      ['count', false],
      ['asset-types', false],
      ['rule', false],
      ['min-rank', false],
      ['max-rank', false],
      ['number', false],
    ]);
  });

  test.each([
    ['an asset type outside the enum, named', () => addCollectible(roles.collector, 2, 'HAT,socks'), /`asset-types`: `SOCKS` cannot be used: it is not one of Roblox's asset types/],
    ['purchased places, with the reason', () => addCollectible(roles.collector, 1, 'PURCHASED_PLACE'), /`PURCHASED_PLACE` cannot be used: places are never collectibles/],
    ['a count of 0', () => addCollectible(roles.collector, 0), /`count` must be between 1 and 1000/],
    ['an id on a collectible bind', () => bindCommand('add', [opt.string('type', 'collectible'), opt.role('role', roles.collector), opt.integer('id', 5)]), /collectibles bind takes no `id`/],
    ['a rule bind without a rule', () => bindCommand('add', [opt.string('type', 'rule'), opt.role('role', roles.veteran)]), /needs the `rule`.*at most 300 characters and 8 levels of nesting/],
    ['a rule on a game pass bind', () => bindCommand('add', [opt.string('type', 'gamepass'), opt.role('role', roles.veteran), opt.integer('id', 5), opt.string('rule', 'verified')]), /game pass bind takes no `rule`/],
    [
      'a rule that cannot be read: position, expected, found, and the limits',
      () => addRule(roles.veteran, 'gamepass:1 and badge'),
      /That rule cannot be read: at character 21, expected `:` and the badge id after `badge`, found the end of the rule\.\n```\ngamepass:1 and badge\n {20}\^\n```\nRules may be at most 300 characters and 8 levels of nesting\./,
    ],
    ['a rule nested too deep', () => addRule(roles.veteran, `${'not '.repeat(9)}verified`), /at character 33, expected at most 8 levels of nesting/],
  ])('refuses %s and stores nothing', async (_name, send, message) => {
    const before = (await binds()).length;
    expect(await send()).toMatch(message);
    expect(await binds()).toHaveLength(before);
  });

  test('a collectible bind and a rule bind are stored under their normalised text, so a duplicate is refused', async () => {
    expect(await addCollectible(roles.collector, 2, 'hat, Face')).toContain(`Bound <@&${roles.collector}> to at least 2 collectible(s) of type FACE, HAT`);
    expect(await addCollectible(roles.collector, 2, 'FACE,HAT')).toContain('already bound');
    const reply = await addRule(roles.veteran, 'GamePass:601 AND (badge:602 or  badge:603) and not badge:666');
    expect(reply).toContain('Bound <@&' + roles.veteran + '> to rule `GamePass:601 AND (badge:602 or  badge:603) and not badge:666`');
    expect(reply).toContain('Read as `gamepass:601 and (badge:602 or badge:603) and not badge:666` (rules may be at most 300 characters and 8 levels of nesting)');
    expect(await addRule(roles.veteran, 'gamepass:601 and (badge:602 or badge:603) and not badge:666')).toContain('already bound');
    await bind(world, a.id, roles.plain, 'gamepass', 601);
    await bind(world, b.id, roles.other, 'gamepass', 601);
    expect((await binds()).map((row) => [row.kind, row.itemId, row.expression])).toEqual([
      ['collectible', 'collectibles(FACE,HAT)>=2', null],
      ['rule', 'gamepass:601 and (badge:602 or badge:603) and not badge:666', 'GamePass:601 AND (badge:602 or  badge:603) and not badge:666'],
      ['gamepass', '601', null],
    ]);
    const list = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'bind', [opt.sub('list')]));
    expect(list).toContain(`1. <@&${roles.collector}> ← at least 2 collectible(s) of type FACE, HAT`);
    expect(list).toContain(`2. <@&${roles.veteran}> ← rule \`GamePass:601 AND (badge:602 or  badge:603) and not badge:666\``);
    expect(list).toContain(`3. <@&${roles.plain}> ← game pass Season Pass (601)`);
    expect(posted().filter((m) => m.startsWith('➕'))).toEqual([
      expect.stringContaining(`bound <@&${roles.collector}> to at least 2 collectible(s) of type FACE, HAT`),
      expect.stringContaining(`bound <@&${roles.veteran}> to rule \`GamePass:601 AND (badge:602 or  badge:603) and not badge:666\``),
      expect.stringContaining(`bound <@&${roles.plain}> to game pass Season Pass (601)`),
    ]);
  });
});

describe('syncing collectible and rule binds', () => {
  let member = '';
  let plainMember = '';

  test('roles follow the rule and the count; collectibles cost one more request, only where a server asks', async () => {
    world.roblox.addUser({ id: '9601', name: 'Collector', items: [{ kind: 'gamepass', id: '601' }, { kind: 'badge', id: '603' }, limited(1, 'HAT'), limited(2, 'FACE'), limited(3, 'GEAR')] });
    world.roblox.addUser({ id: '9602', name: 'Plain', items: [{ kind: 'gamepass', id: '601' }, limited(4, 'HAT'), limited(5, 'HAT')] });
    member = newMember(world, a.id, 'collector');
    world.discord.addMember(b.id, member);
    plainMember = newMember(world, b.id, 'plain');
    await verifyByProfile(world, a.id, member, '9601');
    await verifyByProfile(world, b.id, plainMember, '9602');
    expect(has(a, member)).toEqual([roles.collector, roles.veteran, roles.plain].sort());
    expect(has(b, member)).toEqual([roles.other]);
    expect(has(b, plainMember)).toEqual([roles.other]);

    const before = world.roblox.requests.length;
    await world.bot!.runs.runAll('test');
    const requests = world.roblox.requests.slice(before).filter((r) => r.route === 'inventory');
    // Server A asks about collectibles: its member costs the id request and one collectible listing.
    expect(requests.filter((r) => r.userId === '9601').map((r) => r.query.filter)).toEqual([
      'badgeIds=602,603,666;gamePassIds=601',
      'onlyCollectibles=true;inventoryItemAssetTypes=FACE,HAT',
    ]);
    // Server B does not: its member costs exactly one request, as before.
    expect(requests.filter((r) => r.userId === '9602').map((r) => r.query.filter)).toEqual(['gamePassIds=601']);
  });

  test('/check shows the counts and each rule as a tree, ✅ / ❌ / ❔ per atom and the result', async () => {
    const text = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'check', [opt.user('member', member)]));
    expect(text).toContain('Collectibles: FACE,HAT: 2.');
    expect(text).toContain(`✅ <@&${roles.collector}> ← at least 2 collectible(s) of type FACE, HAT (\`collectibles(FACE,HAT)>=2\`): holds`);
    expect(text).toContain('\u2003✅ `collectibles(FACE,HAT)>=2`: has 2');
    expect(text).toContain(
      [
        `✅ <@&${roles.veteran}> ← rule \`GamePass:601 AND (badge:602 or  badge:603) and not badge:666\`: holds`,
        '\u2003✅ all of',
        '\u2003\u2003✅ `gamepass:601`: owns',
        '\u2003\u2003✅ any of',
        '\u2003\u2003\u2003❌ `badge:602`: does not own',
        '\u2003\u2003\u2003✅ `badge:603`: owns',
        '\u2003\u2003✅ not',
        '\u2003\u2003\u2003❌ `badge:666`: does not own',
      ].join('\n'),
    );
  });

  test('unreadable collectibles keep the collector role; a definite false in a rule still removes', async () => {
    world.roblox.give('9601', 'badge', '666'); // the ban-list badge: "not badge:666" is now definitely false
    world.roblox.take('9601', 'asset', '2'); // truly below the count now, but the bot cannot see it
    world.roblox.fault = (route) => (route === 'inventory' && world.roblox.requests.at(-1)?.query.filter?.startsWith('onlyCollectibles') ? { status: 200, body: { nextPageToken: '' } } : undefined);
    try {
      await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'update', [opt.user('member', member)]));
    } finally {
      world.roblox.fault = undefined;
    }
    expect(has(a, member)).toEqual([roles.collector, roles.plain].sort());
    const text = await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'check', [opt.user('member', member)]));
    expect(text).toContain('Collectibles: FACE,HAT: unknown (Roblox sent an answer the bot could not read).');
    expect(text).toContain(`❔ <@&${roles.collector}> ← at least 2 collectible(s) of type FACE, HAT (\`collectibles(FACE,HAT)>=2\`): unknown: Roblox sent an answer the bot could not read`);
    expect(text).toContain('\u2003\u2003\u2003✅ `badge:666`: owns');
    // Readable again: the count decides.
    await world.discord.answer(world.discord.sendCommand(a.id, a.ownerId, 'update', [opt.user('member', member)]));
    expect(has(a, member)).toEqual([roles.plain]);
    const removal = world.discord.roleWrites.find((w) => w.method === 'DELETE' && w.roleId === roles.veteran);
    expect(removal?.reason).toContain('rule `GamePass:601 AND (badge:602 or  badge:603) and not badge:666`');
  });

  test('/metrics counts the collectible requests apart', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (series: string) => metricValue(text, series);
    expect(value('gatepass_roblox_requests_total{endpoint="inventory_collectibles",status="200"}')).toBe(world.roblox.requests.filter((r) => r.route === 'inventory' && r.query.filter?.startsWith('onlyCollectibles') && r.status === 200).length);
    expect(value('gatepass_roblox_requests_total{endpoint="inventory_collectibles",status="200"}')).toBeGreaterThan(0);
  });
});

describe('/bind remove', () => {
  test('a rule by its text however written, a collectible bind by its options, any bind by its number', async () => {
    expect(await bindCommand('remove', [opt.string('type', 'rule'), opt.role('role', roles.veteran), opt.string('rule', 'gamepass:601 and (BADGE:602 or badge:603) and not badge:666')])).toContain(
      'Removed the bind of <@&' + roles.veteran + '> to rule `gamepass:601 and (BADGE:602 or badge:603) and not badge:666`',
    );
    expect(await bindCommand('remove', [opt.string('type', 'collectible'), opt.role('role', roles.collector), opt.integer('count', 3), opt.string('asset-types', 'HAT,FACE')])).toContain('There is no bind');
    expect(await bindCommand('remove', [opt.integer('number', 5)])).toContain('There is no bind number 5; this server has 2.');
    expect(await bindCommand('remove', [opt.integer('number', 1), opt.string('type', 'rule')])).toContain('either the `number`');
    expect(await bindCommand('remove', [opt.integer('number', 1)])).toContain(`Removed the bind of <@&${roles.collector}> to at least 2 collectible(s)`);
    expect((await binds()).map((row) => row.kind)).toEqual(['gamepass']);
    expect(posted().filter((m) => m.startsWith('➖'))).toEqual([expect.stringContaining('rule `gamepass:601 and (BADGE:602'), expect.stringContaining('at least 2 collectible(s) of type FACE, HAT')]);
  });
});
