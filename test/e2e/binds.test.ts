import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PERMISSIONS } from '../fakes/discord';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
let owner: string;
let vip: string;
let powerless: { guildId: string; roleId: string };

beforeAll(async () => {
  world = await createWorld();
  owner = world.guild.ownerId;
  vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  const guild = world.discord.addGuild('No Manage Roles', { botCanManageRoles: false });
  powerless = { guildId: guild.id, roleId: world.discord.addRole(guild.id, 'Perk', { position: 2 }) };
  world.roblox.addItem('gamepass', '1234567', 'VIP Pass');
  world.roblox.addItem('badge', '42', 'Forty-Two');
  world.roblox.addItem('badge', '555', 'Gold Badge');
  world.roblox.addItem('asset', '666', 'Hidden Hat');
  await startTestBot(world);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const binds = () => world.bot!.db.bind.findMany({ where: { guildId: world.guild.id } });
const bindCommand = (user: string, sub: string, options: Record<string, unknown>[] = []) => world.discord.sendCommand(world.guild.id, user, 'bind', [opt.sub(sub, options)]);

describe('/bind', () => {
  test('registered with the documented options and default permissions', () => {
    const commands = Object.fromEntries(world.discord.globalCommands.map((c) => [c.name, c]));
    expect(Object.keys(commands).sort()).toEqual(['bind', 'check', 'settings', 'sync', 'unlink', 'update', 'verify', 'whois']);
    expect(commands.settings!.default_member_permissions).toBe(PERMISSIONS.MANAGE_GUILD.toString());
    expect(commands.whois!.default_member_permissions).toBe(PERMISSIONS.MANAGE_ROLES.toString());
    expect(commands.bind!.default_member_permissions).toBe(PERMISSIONS.MANAGE_GUILD.toString());
    expect(commands.check!.default_member_permissions).toBe(PERMISSIONS.MANAGE_ROLES.toString());
    expect(commands.sync!.default_member_permissions).toBe(PERMISSIONS.MANAGE_ROLES.toString());
    const add = (commands.bind!.options as { name: string; options: { name: string; choices?: { value: string }[]; min_value?: number }[] }[]).find((o) => o.name === 'add')!;
    expect(add.options.find((o) => o.name === 'type')!.choices!.map((c) => c.value)).toEqual(['gamepass', 'badge', 'asset', 'privateserver', 'verified', 'collectible', 'rule', 'group']);
    expect(add.options.find((o) => o.name === 'id')!.min_value).toBe(1);
  });

  test('add, list, duplicate, remove', async () => {
    expect(await bind(world, world.guild.id, vip, 'gamepass', 1234567)).toContain(`Bound <@&${vip}> to game pass VIP Pass (1234567)`);
    expect(await bind(world, world.guild.id, vip, 'badge', 42)).toContain('badge Forty-Two (42)');
    expect(await bind(world, world.guild.id, vip, 'gamepass', 1234567)).toContain('already bound');
    const list = await world.discord.answer(bindCommand(owner, 'list'));
    expect(list).toContain(`<@&${vip}> ← game pass VIP Pass (1234567)`);
    expect(list).toContain(`<@&${vip}> ← badge Forty-Two (42)`);
    expect(await binds()).toHaveLength(2);
    const removed = await world.discord.answer(bindCommand(owner, 'remove', [opt.string('type', 'badge'), opt.role('role', vip), opt.integer('id', 42)]));
    expect(removed).toContain('Removed the bind');
    expect(await world.discord.answer(bindCommand(owner, 'remove', [opt.string('type', 'badge'), opt.role('role', vip), opt.integer('id', 42)]))).toContain('There is no bind');
    expect((await binds()).map((b) => [b.kind, b.itemId])).toEqual([['gamepass', '1234567']]);
  });

  test.each([
    ['verified with an id', [opt.string('type', 'verified'), opt.role('role', 'VIP'), opt.integer('id', 5)], /takes no `id`/],
    ['a pass without an id', [opt.string('type', 'gamepass'), opt.role('role', 'VIP')], /needs the `id`/],
    ['id 0', [opt.string('type', 'gamepass'), opt.role('role', 'VIP'), opt.integer('id', 0)], /must be between 1 and/],
    ['a negative id', [opt.string('type', 'badge'), opt.role('role', 'VIP'), opt.integer('id', -5)], /must be between 1 and/],
    ['an id past 2^53', [opt.string('type', 'asset'), opt.role('role', 'VIP'), opt.integer('id', 2 ** 60)], /must be a whole number|between/],
    ['a fractional id', [opt.string('type', 'asset'), opt.role('role', 'VIP'), opt.integer('id', 1.5)], /whole number/],
    ['an unknown type', [opt.string('type', 'hat'), opt.role('role', 'VIP'), opt.integer('id', 5)], /must be one of/],
    ['an id sent as text', [opt.string('type', 'asset'), opt.role('role', 'VIP'), opt.string('id', '5')], /wrong type/],
    ['no role', [opt.string('type', 'asset'), opt.integer('id', 5)], /`role` is required/],
  ])('refuses %s and stores nothing', async (_name, rawOptions, message) => {
    const before = (await binds()).length;
    const options = rawOptions.map((o) => (o.name === 'role' ? { ...o, value: vip } : o));
    const reply = bindCommand(owner, 'add', options);
    expect(await world.discord.answer(reply)).toMatch(message);
    expect(reply.callbacks[0]?.data?.flags).toBe(64);
    expect(await binds()).toHaveLength(before);
  });

  test.each([
    ['a role above the bot', () => world.discord.addRole(world.guild.id, 'Admin', { position: 20 }), /not below the bot's highest role.*drag the bot's role above it/],
    ['an integration-managed role', () => world.discord.addRole(world.guild.id, 'Booster', { position: 2, managed: true }), /managed by an integration/],
    ['@everyone', () => world.guild.id, /@everyone cannot be given/],
  ])('refuses to bind %s, saying how to fix it', async (_name, makeRole, message) => {
    const role = makeRole();
    const before = (await binds()).length;
    expect(await bind(world, world.guild.id, role, 'gamepass', 77)).toMatch(message);
    expect(await binds()).toHaveLength(before);
  });

  test('refuses to bind in a server where the bot lacks Manage Roles, saying how to fix it', async () => {
    expect(await bind(world, powerless.guildId, powerless.roleId, 'gamepass', 5)).toMatch(/lacks the Manage Roles permission/);
    expect(await world.bot!.db.bind.count({ where: { guildId: powerless.guildId } })).toBe(0);
  });

  test('members without Manage Server are refused, even though Discord hides the command from them', async () => {
    const member = newMember(world, world.guild.id, 'pleb');
    const before = (await binds()).length;
    expect(await world.discord.answer(bindCommand(member, 'add', [opt.string('type', 'gamepass'), opt.role('role', vip), opt.integer('id', 9)]))).toMatch(/needs the Manage Server permission/);
    expect(await binds()).toHaveLength(before);
  });

  test('unknown subcommands and unknown commands get a clear error', async () => {
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'bind', [opt.sub('explode')]))).toMatch(/Use one of/);
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'bind', []))).toMatch(/Use one of/);
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'selfdestruct'))).toMatch(/Unknown command/);
  });
});

describe('permission refusals', () => {
  test('/check and /sync need Manage Roles; /update of someone else too', async () => {
    const member = newMember(world, world.guild.id, 'nosy');
    const other = newMember(world, world.guild.id, 'other');
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'check', [opt.user('member', other)]))).toMatch(/needs the Manage Roles permission/);
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'sync'))).toMatch(/needs the Manage Roles permission/);
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'update', [opt.user('member', other)]))).toMatch(/needs the Manage Roles permission/);
    expect(world.discord.roleWrites.filter((w) => w.userId === other)).toEqual([]);
  });

  test('a moderator with Manage Roles may /check', async () => {
    const modRole = world.discord.addRole(world.guild.id, 'Mod', { position: 1, permissions: PERMISSIONS.MANAGE_ROLES });
    const mod = newMember(world, world.guild.id, 'mod', [modRole]);
    const target = newMember(world, world.guild.id, 'target');
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, mod, 'check', [opt.user('member', target)]))).toContain('has no linked Roblox account');
  });
});

describe('/check', () => {
  test('shows the link, each bind with its outcome and time, and what the next sync would change', async () => {
    const gold = world.discord.addRole(world.guild.id, 'Gold', { position: 4 });
    const hidden = world.discord.addRole(world.guild.id, 'Hidden', { position: 5 });
    await bind(world, world.guild.id, gold, 'badge', 555);
    await bind(world, world.guild.id, hidden, 'asset', 666);
    world.roblox.addUser({ id: '7001', name: 'Checked', items: [{ kind: 'gamepass', id: '1234567' }] });
    const member = newMember(world, world.guild.id, 'checked');
    await verifyByProfile(world, world.guild.id, member, '7001');
    expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);

    // The inventory turns private and a moderator hands out Gold by hand.
    world.roblox.users.get('7001')!.inventoryPublic = false;
    world.discord.setMemberRoles(world.guild.id, member, [vip, gold]);
    await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'update'));
    expect(world.discord.memberRoles(world.guild.id, member).sort()).toEqual([vip, gold].sort()); // unknown keeps both

    const text = await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'check', [opt.user('member', member)]));
    expect(text).toContain('is linked to Roblox **Checked** (id 7001)');
    expect(text).toMatch(/last checked <t:\d+:R>/);
    expect(text).toMatch(new RegExp(`<@&${vip}> ← game pass VIP Pass \\(1234567\\): unknown: inventory is private.*\\(since <t:\\d+:R>\\)`));
    expect(text).toContain(`<@&${gold}> ← badge Gold Badge (555): unknown: inventory is private`);
    expect(text).toContain('Next sync would: no changes.');

    // Public again: /check reflects stored outcomes after the next check.
    world.roblox.users.get('7001')!.inventoryPublic = true;
    await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'update', [opt.user('member', member)]));
    expect(world.discord.memberRoles(world.guild.id, member)).toEqual([vip]);
    world.discord.setMemberRoles(world.guild.id, member, []);
    const after = await world.discord.answer(world.discord.sendCommand(world.guild.id, owner, 'check', [opt.user('member', member)]));
    expect(after).toContain(`<@&${vip}> ← game pass VIP Pass (1234567): owns`);
    expect(after).toContain(`<@&${hidden}> ← asset Hidden Hat (666): does not own`);
    expect(after).toContain(`Next sync would: give <@&${vip}>.`);
  });
});
