// The unverified role, end to end: who may choose it, the paced pass over the members already
// there, joins, links and unlinks, the schedule, and never a grant to a linked member.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { syncSettings } from '../../src/database/settings';
import { PERMISSIONS } from '../fakes/discord';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
const roles = { unverified: '', vip: '', staff: '', moderator: '', elite: '', other: '' };
const people = { moderator: '', alone: '', holder: '', linked: '' };
let otherGuild = '';

beforeAll(async () => {
  world = await createWorld();
  const { discord, guild } = world;
  // The bot's role is at 10.
  roles.unverified = discord.addRole(guild.id, 'Unverified', { position: 2 });
  roles.vip = discord.addRole(guild.id, 'VIP', { position: 3 });
  roles.staff = discord.addRole(guild.id, 'Staff', { position: 4, permissions: PERMISSIONS.KICK_MEMBERS });
  roles.moderator = discord.addRole(guild.id, 'Moderator', { position: 5, permissions: PERMISSIONS.MANAGE_GUILD | PERMISSIONS.MANAGE_ROLES });
  roles.elite = discord.addRole(guild.id, 'Elite', { position: 7 });
  people.moderator = newMember(world, guild.id, 'moderator', [roles.moderator]);
  people.alone = newMember(world, guild.id, 'alone');
  people.holder = newMember(world, guild.id, 'holder', [roles.unverified]);
  people.linked = newMember(world, guild.id, 'linked');
  // Another server the members are in, without an unverified role: nothing happens there.
  otherGuild = discord.addGuild('Other Server').id;
  roles.other = discord.addRole(otherGuild, 'Other', { position: 2 });
  discord.addMember(otherGuild, people.alone);
  world.roblox.addItem('gamepass', '601', 'VIP Pass');
  for (const [id, name] of [['9601', 'LinkedOne'], ['9602', 'AloneOne'], ['9603', 'Joiner']]) world.roblox.addUser({ id: id!, name: name! });
  await startTestBot(world, {}, { unverifiedPageMs: 5 });
  await world.bot!.indexReady();
  await command(world.guild.ownerId, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: world.guild.channelId }])]);
  await bind(world, guild.id, roles.vip, 'gamepass', 601);
  await verifyByProfile(world, guild.id, people.linked, '9601');
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const command = (user: string, name: string, options: Record<string, unknown>[] = [], guildId = world.guild.id) => world.discord.answer(world.discord.sendCommand(guildId, user, name, options));
const setRole = (user: string, roleId?: string) => command(user, 'settings', [opt.sub('unverified-role', roleId ? [opt.role('role', roleId)] : [])]);
const has = (user: string, roleId = roles.unverified) => world.discord.memberRoles(world.guild.id, user).includes(roleId);
const linkedIds = async () => new Set((await world.bot!.db.link.findMany()).map((l) => l.discordUserId));
const posted = () => world.discord.channelMessages.filter((m) => m.guildId === world.guild.id).map((m) => m.content);

/** Never a grant to a linked member, never a removal from an unlinked one: checked against the links now. */
async function expectNoWrongWrites(): Promise<void> {
  const linked = await linkedIds();
  const writes = world.discord.roleWrites.filter((w) => w.roleId === roles.unverified && w.status < 300);
  const last = new Map<string, string>();
  for (const w of writes) last.set(w.userId, w.method);
  for (const [user, method] of last) expect(method === 'PUT' ? !linked.has(user) : linked.has(user), `${method} of the unverified role for ${user}`).toBe(true);
}

describe('choosing the unverified role follows the rules of binds', () => {
  test('a role the invoker could not give by hand, one with staff powers, one above the bot, or a bound one is refused, and nothing is saved', async () => {
    expect(await setRole(people.moderator, roles.elite)).toMatch(/You could not give @Elite by hand, so you cannot bind it: @Elite is not below your highest role @Moderator/);
    expect(await setRole(world.guild.ownerId, roles.staff)).toMatch(/@Staff carries Kick Members: the unverified role goes to everyone without a linked account/);
    const above = world.discord.addRole(world.guild.id, 'Above', { position: 12 });
    expect(await setRole(world.guild.ownerId, above)).toMatch(/I cannot manage @Above: @Above is not below the bot's highest role/);
    expect(await setRole(world.guild.ownerId, roles.vip)).toMatch(/@VIP is bound/);
    expect(await command(world.guild.ownerId, 'settings', [opt.sub('show')])).toContain('Unverified role: none');
    expect(world.discord.roleWrites.filter((w) => w.roleId === roles.unverified)).toEqual([]);
  });
});

describe('members without a link have it', () => {
  test('setting it gives it to the unlinked members already there (a paced pass), not to linked ones, and the log channel says who set it', async () => {
    const reply = await setRole(people.moderator, roles.unverified);
    expect(reply).toContain(`Members without a linked Roblox account get <@&${roles.unverified}>`);
    await world.bot!.unverifiedReady();
    expect(has(people.alone)).toBe(true);
    expect(has(people.moderator)).toBe(true);
    expect(has(people.holder)).toBe(true);
    expect(has(people.linked)).toBe(false);
    // The holder already had it: only differences are written.
    expect(world.discord.roleWrites.filter((w) => w.roleId === roles.unverified && w.userId === people.holder)).toEqual([]);
    // Nothing in the other server, which has no unverified role.
    expect(world.discord.roleWrites.filter((w) => w.guildId === otherGuild)).toEqual([]);
    expect(world.discord.roleWrites.find((w) => w.roleId === roles.unverified)?.reason).toBe('gatepass: unverified role: no linked Roblox account');
    expect(posted()).toContainEqual(`⚙️ <@${people.moderator}> set the unverified role to <@&${roles.unverified}>.`);
    expect(await command(world.guild.ownerId, 'settings', [opt.sub('show')])).toContain(`Unverified role: <@&${roles.unverified}>`);
    await expectNoWrongWrites();
  });

  test('a member who joins without a link gets it at once; a linked member who joins does not', async () => {
    const joiner = newMember(world, world.guild.id, 'joiner');
    await until(() => has(joiner), 'the joiner to get the unverified role');
    world.discord.removeMember(world.guild.id, people.linked);
    // The leave is recorded before the member comes back: the two events are not ordered by the bot.
    await until(async () => (await world.bot!.db.membership.count({ where: { guildId: world.guild.id, discordUserId: people.linked } })) === 0, 'the leave to reach the index');
    world.discord.addMember(world.guild.id, people.linked);
    await until(() => world.logs.some((l) => l.includes('synced a linked member on join') && l.includes(people.linked)), 'the linked member\'s join sync');
    expect(has(people.linked)).toBe(false);
    await expectNoWrongWrites();
  });

  test('linking takes it away, unlinking gives it back', async () => {
    await verifyByProfile(world, world.guild.id, people.alone, '9602');
    expect(has(people.alone)).toBe(false);
    const removal = world.discord.roleWrites.filter((w) => w.userId === people.alone && w.roleId === roles.unverified).at(-1);
    expect(removal).toMatchObject({ method: 'DELETE', reason: 'gatepass: unverified role: linked to Roblox AloneOne' });
    await command(people.alone, 'unlink');
    expect(has(people.alone)).toBe(true);
    await expectNoWrongWrites();
  });

  test('a linked member given it by hand loses it at the next sync', async () => {
    world.discord.setMemberRoles(world.guild.id, people.linked, [roles.unverified]);
    const reply = await command(world.guild.ownerId, 'sync');
    expect(has(people.linked), reply).toBe(false);
    await expectNoWrongWrites();
  });

  test('a role that gains staff powers is given to nobody more, and the log says why', async () => {
    world.discord.updateRole(world.guild.id, roles.unverified, { permissions: PERMISSIONS.KICK_MEMBERS });
    const joiner = newMember(world, world.guild.id, 'latecomer');
    await until(() => world.logs.some((l) => l.includes('synced an unlinked member on join') && l.includes(joiner)), 'the latecomer\'s join sync');
    expect(has(joiner)).toBe(false);
    const warning = world.logs.find((l) => l.includes('some role changes could not be made') && l.includes(joiner));
    expect(warning).toMatch(/cannot add the unverified role @Unverified: @Unverified has gained Kick Members/);
    world.discord.updateRole(world.guild.id, roles.unverified, { permissions: 0n });
  });

  test('members who joined while the bot was offline get it at start-up; /sync reaches one it missed', async () => {
    await world.bot!.stop();
    const offline = newMember(world, world.guild.id, 'while-offline');
    await startTestBot(world, {}, { unverifiedPageMs: 5 });
    // No join event reached the bot: only the start-up pass can give it.
    await world.bot!.unverifiedReady();
    expect(has(offline)).toBe(true);
    // Taken away by hand: no join, link or unlink follows, but /sync walks the unlinked members too.
    world.discord.setMemberRoles(world.guild.id, offline, []);
    await command(world.guild.ownerId, 'sync');
    await world.bot!.unverifiedReady();
    expect(has(offline)).toBe(true);
    await expectNoWrongWrites();
  });

  test('a batch whose members are in more than 999 servers reads their settings (SQLite binds at most 999 parameters)', async () => {
    const guildIds = [world.guild.id, ...Array.from({ length: 1_200 }, (_, i) => String(10n ** 17n + BigInt(i)))];
    expect((await syncSettings(world.bot!.db, guildIds)).unverified.get(world.guild.id)).toBe(roles.unverified);
  });

  test('turned off: new members no longer get it, and those who have it keep it', async () => {
    expect(await setRole(world.guild.ownerId)).toContain('Unverified role turned off');
    expect(posted()).toContainEqual(`⚙️ <@${world.guild.ownerId}> turned the unverified role off.`);
    const joiner = newMember(world, world.guild.id, 'after');
    await command(joiner, 'update');
    expect(has(joiner)).toBe(false);
    expect(has(people.holder)).toBe(true);
    await expectNoWrongWrites();
  });
});
