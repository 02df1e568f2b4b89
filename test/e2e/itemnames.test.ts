// Items by name: /bind add asks Roblox for the item's name, refuses ids Roblox says do not exist,
// accepts the bind as "name unknown" when Roblox cannot be asked, and fills the name in later.
// Names are anyone's text and must be shown as text, never as Discord markup.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ItemRoute, RobloxFault } from '../fakes/roblox';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let owner: string;
const roles = { vip: '', badge: '', hat: '', server: '', other: '' };

beforeAll(async () => {
  world = await createWorld();
  owner = world.guild.ownerId;
  roles.vip = world.discord.addRole(world.guild.id, 'VIP', { position: 5 });
  roles.badge = world.discord.addRole(world.guild.id, 'Badge Holder', { position: 4 });
  roles.hat = world.discord.addRole(world.guild.id, 'Hat Owner', { position: 3 });
  roles.server = world.discord.addRole(world.guild.id, 'Server Owner', { position: 2 });
  roles.other = world.discord.addRole(world.guild.id, 'Other', { position: 1 });
  world.roblox.addItem('gamepass', '83167572', 'VIP Pass');
  world.roblox.addItem('badge', '2124445684', 'Welcome Badge');
  world.roblox.addItem('asset', '1028595', 'Golden Crown');
  await startTestBot(world);
  await command(owner, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: world.guild.channelId }])]);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  expect(world.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  await destroyWorld(world);
});

const command = (user: string, name: string, options: Record<string, unknown>[] = []) => world.discord.answer(world.discord.sendCommand(world.guild.id, user, name, options));
const list = () => command(owner, 'bind', [opt.sub('list')]);
const posted = () => world.discord.channelMessages.filter((m) => m.guildId === world.guild.id).map((m) => m.content);
const stored = (kind: string, itemId: string) => world.bot!.db.bind.findMany({ where: { guildId: world.guild.id, kind, itemId } });
const itemRequests = () => world.roblox.requests.filter((r) => ['gamePassInfo', 'badgeInfo', 'assetInfo'].includes(r.route));
const faultOn = (route: ItemRoute, itemId: string, fault: RobloxFault) => {
  world.roblox.fault = (r, id) => (r === route && id === itemId ? fault : undefined);
};

describe('/bind add names the item', () => {
  test.each([
    ['gamepass', 83167572, 'VIP Pass', 'game pass VIP Pass (83167572)', 'gamePassInfo', '/game-passes/v1/game-passes/83167572/product-info'],
    ['badge', 2124445684, 'Welcome Badge', 'badge Welcome Badge (2124445684)', 'badgeInfo', '/v1/badges/2124445684'],
    ['asset', 1028595, 'Golden Crown', 'asset Golden Crown (1028595)', 'assetInfo', '/v2/assets/1028595/details'],
  ])('a %s: in the reply, /bind list and the log channel, asked anonymously of its own host', async (kind, id, name, shown, route, path) => {
    const role = { gamepass: roles.vip, badge: roles.badge, asset: roles.hat }[kind]!;
    const before = itemRequests().length;
    const reply = await bind(world, world.guild.id, role, kind, id);
    expect(reply).toContain(`Bound <@&${role}> to ${shown}.`);
    expect(reply).not.toContain('name unknown');
    expect(await list()).toContain(`<@&${role}> ← ${shown}`);
    expect(posted().at(-1)).toBe(`➕ <@${owner}> bound <@&${role}> to ${shown}.`);
    // One lookup, on the route of that host only (the fake serves badges and economy under their own prefix), without the API key.
    expect(itemRequests().slice(before).map((r) => [r.route, r.path, r.hadApiKey, r.status])).toEqual([[route, path, false, 200]]);
    expect((await stored(kind, String(id)))[0]!.name).toBe(name);
  });

  test('a private server has no name to ask for: none is asked, and none is said to be unknown', async () => {
    const before = itemRequests().length;
    const reply = await bind(world, world.guild.id, roles.server, 'privateserver', 7707);
    expect(reply).toContain(`Bound <@&${roles.server}> to private server 7707.`);
    expect(reply).not.toContain('name unknown');
    expect(itemRequests().length).toBe(before);
    expect((await list()).split('\n').some((line) => line.endsWith(`. <@&${roles.server}> ← private server 7707`))).toBe(true);
  });

  test('/check and /update show the names with each outcome', async () => {
    world.roblox.addUser({ id: '6001', name: 'Named', items: [{ kind: 'gamepass', id: '83167572' }] });
    const member = newMember(world, world.guild.id, 'named');
    await verifyByProfile(world, world.guild.id, member, '6001');
    const update = await command(member, 'update');
    expect(update).toContain(`✅ <@&${roles.vip}> ← game pass VIP Pass (83167572): owns`);
    const check = await command(owner, 'check', [opt.user('member', member)]);
    expect(check).toContain(`✅ <@&${roles.vip}> ← game pass VIP Pass (83167572): owns`);
    expect(check).toContain(`❌ <@&${roles.badge}> ← badge Welcome Badge (2124445684): does not own`);
    expect(check).toContain(`❌ <@&${roles.hat}> ← asset Golden Crown (1028595): does not own`);
    // The audit-log reason names the pass too.
    expect(world.discord.roleWrites.filter((w) => w.userId === member).map((w) => w.reason)).toContain('gatepass: Roblox Named has game pass VIP Pass (83167572)');
  });
});

describe('an id Roblox says does not exist is refused', () => {
  test.each([
    ['badge', 999001, 404, /Roblox says there is no badge with the id 999001\. Check the id .*Nothing was saved\./],
    ['gamepass', 999002, 404, /Roblox says there is no game pass with the id 999002\./],
    ['asset', 999003, 404, /Roblox says there is no asset with the id 999003\./],
    ['asset', 999004, 400, /Roblox says there is no asset with the id 999004\./],
  ] as const)('a %s (%s, HTTP %s): clear error, nothing stored, nothing logged', async (kind, id, status, message) => {
    world.roblox.missingItemStatus = status;
    const logged = posted().length;
    try {
      expect(await bind(world, world.guild.id, roles.other, kind, id)).toMatch(message);
    } finally {
      world.roblox.missingItemStatus = 404;
    }
    expect(await stored(kind, String(id))).toEqual([]);
    expect(posted().length).toBe(logged);
    expect(itemRequests().at(-1)!.status).toBe(status);
  });
});

describe('when Roblox cannot be asked, the bind is saved as "name unknown" and named later', () => {
  test.each([
    ['a 503', 'gamepass', 'gamePassInfo', 5001, { status: 503, body: 'Service Unavailable' }],
    ['a 500 with a legacy error body', 'badge', 'badgeInfo', 5002, { status: 500, body: { errors: [{ code: 0, message: 'InternalServerError' }] } }],
    ['a 429', 'asset', 'assetInfo', 5003, { status: 429, body: { errors: [{ code: 0, message: 'Too many requests' }] }, headers: { 'retry-after': '0.2' } }],
    ['no answer (timeout)', 'gamepass', 'gamePassInfo', 5004, { hang: true }],
    ['a 200 that is not JSON', 'badge', 'badgeInfo', 5005, { status: 200, body: '<html>oops' }],
    ['a 200 without a name', 'asset', 'assetInfo', 5006, { status: 200, body: { AssetId: 5006 } }],
    ['a 200 about another item', 'gamepass', 'gamePassInfo', 5007, { status: 200, body: { TargetId: 1, Name: 'Someone Else' } }],
  ] as const)('%s', async (_name, kind, route, id, fault) => {
    world.roblox.addItem(kind, String(id), `Item ${id}`);
    faultOn(route, String(id), fault);
    let reply: string;
    try {
      reply = await bind(world, world.guild.id, roles.other, kind, id);
    } finally {
      world.roblox.fault = undefined;
    }
    const label = { gamepass: 'game pass', badge: 'badge', asset: 'asset' }[kind];
    expect(reply).toContain(`Bound <@&${roles.other}> to ${label} ${id} (name unknown). Roblox could not be asked for its name just now; it will be filled in later.`);
    expect((await stored(kind, String(id)))[0]!.name).toBeNull();
    expect(await list()).toContain(`<@&${roles.other}> ← ${label} ${id} (name unknown)`);
    expect(posted().at(-1)).toContain(`to ${label} ${id} (name unknown).`);

    // The background round, triggered here rather than waited for, finds the name.
    expect(await world.bot!.itemNames.fill()).toBe(1);
    expect((await stored(kind, String(id)))[0]!.name).toBe(`Item ${id}`);
    expect(await list()).toContain(`<@&${roles.other}> ← ${label} Item ${id} (${id})`);
    expect(await world.bot!.itemNames.fill()).toBe(0); // nothing left to ask
  });

  test('an item Roblox later says does not exist keeps its id, is logged, and is not asked again', async () => {
    faultOn('gamePassInfo', '5100', { status: 503, body: '' });
    try {
      expect(await bind(world, world.guild.id, roles.other, 'gamepass', 5100)).toContain('(name unknown)');
    } finally {
      world.roblox.fault = undefined;
    }
    expect(await world.bot!.itemNames.fill()).toBe(0);
    expect(world.logs.some((l) => l.includes('Roblox says a bound item does not exist') && l.includes('"itemId":"5100"'))).toBe(true);
    const asked = itemRequests().filter((r) => r.itemId === '5100').length;
    expect(await world.bot!.itemNames.fill()).toBe(0);
    expect(itemRequests().filter((r) => r.itemId === '5100').length).toBe(asked);
    expect(await list()).toContain('game pass 5100 (name unknown)');
  });

  test('a lookup in progress never holds up a sync: the member is synced while Roblox holds the name', async () => {
    world.roblox.addItem('badge', '5200', 'Slow Badge');
    faultOn('badgeInfo', '5200', { status: 503, body: '' });
    try {
      await bind(world, world.guild.id, roles.badge, 'badge', 5200);
    } finally {
      world.roblox.fault = undefined;
    }
    world.roblox.addUser({ id: '6002', name: 'Waiting', items: [{ kind: 'badge', id: '5200' }] });
    const member = newMember(world, world.guild.id, 'waiting');

    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    faultOn('badgeInfo', '5200', { hold: held });
    let filled: Promise<number> | undefined;
    try {
      filled = world.bot!.itemNames.fill();
      await until(() => itemRequests().some((r) => r.itemId === '5200' && r.status === 0), 'the name lookup to reach Roblox');
      // Roblox has not answered the lookup (the test holds it), and linking, its sync and /update complete anyway.
      await verifyByProfile(world, world.guild.id, member, '6002');
      expect(world.discord.memberRoles(world.guild.id, member)).toContain(roles.badge);
      expect(await command(member, 'update')).toContain(`✅ <@&${roles.badge}> ← badge 5200 (name unknown): owns`);
      expect(itemRequests().filter((r) => r.itemId === '5200').at(-1)!.status).toBe(0);
    } finally {
      release();
      world.roblox.fault = undefined;
    }
    await filled;
    // Released, the name arrives (a second round covers a lookup that gave up while held).
    await world.bot!.itemNames.fill();
    expect(await command(owner, 'check', [opt.user('member', member)])).toContain(`✅ <@&${roles.badge}> ← badge Slow Badge (5200): owns`);
  });
});

describe('names are untrusted text', () => {
  test('mentions, markdown, masked links, line breaks and 500 characters are shown as plain, capped text', async () => {
    const hostile = `@everyone <@&${roles.vip}> **FREE** [click](https://e.vil) __x__ ||s||\n# H ${'A'.repeat(500)}`;
    world.roblox.addItem('gamepass', '6666', hostile);
    const reply = await bind(world, world.guild.id, roles.other, 'gamepass', 6666);
    const [name] = (await stored('gamepass', '6666')).map((b) => b.name!);
    expect([...name!].length).toBe(100);
    expect(name).toMatch(/…$/);
    expect(name).not.toContain('\n');

    const shownIn = { reply, list: (await list()).split('\n').find((l) => l.includes('(6666)'))!, log: posted().at(-1)! };
    for (const [where, text] of Object.entries(shownIn)) {
      const shown = text.slice(text.indexOf('game pass ') + 'game pass '.length, text.indexOf('(6666)'));
      expect(shown, where).toContain('@\u200beveryone');
      expect(shown, where).not.toMatch(/@everyone/);
      expect(shown, where).not.toMatch(/(^|[^\\])</); // every < escaped: no mention, channel, emoji or timestamp
      expect(shown, where).toContain('\\*\\*FREE\\*\\*');
      expect(shown, where).toContain('\\[click](https://e.vil)'); // an escaped [ is no masked link
      expect(shown, where).toContain('\\_\\_x\\_\\_');
      expect(shown, where).toContain('\\|\\|s\\|\\|');
      expect(shown, where).not.toContain('\n');
      expect(shown.length, where).toBeLessThan(140);
    }
    // The only real mentions in the log line are the bot's own: who bound which role.
    expect(shownIn.log.match(/(?<!\\)<@&?\d+>/g)).toEqual([`<@${owner}>`, `<@&${roles.other}>`]);
  });
});

test('/bind remove names what it removed, in its reply and the log channel', async () => {
  const reply = await command(owner, 'bind', [opt.sub('remove', [opt.string('type', 'asset'), opt.role('role', roles.hat), opt.integer('id', 1028595)])]);
  expect(reply).toContain(`Removed the bind of <@&${roles.hat}> to asset Golden Crown (1028595).`);
  expect(posted().at(-1)).toBe(`➖ <@${owner}> removed the bind of <@&${roles.hat}> to asset Golden Crown (1028595).`);
  expect(await stored('asset', '1028595')).toEqual([]);
});
