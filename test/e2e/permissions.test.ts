// The attacker with some staff power tries to get more through the bot than Discord gives them:
// binding roles they could not give by hand, lending themselves a channel's permissions, and a
// perk role that quietly gains Administrator after it was bound.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PERMISSIONS } from '../fakes/discord';
import { createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
const roles = { admin: '', manager: '', moderator: '', perk: '', elite: '', helper: '' };
const people = { admin: '', manager: '', moderator: '' };

beforeAll(async () => {
  world = await createWorld();
  const { discord, guild } = world;
  // The bot's role is at 10; every role here is below it, as the README tells owners to arrange.
  roles.admin = discord.addRole(guild.id, 'Admin', { position: 2, permissions: PERMISSIONS.ADMINISTRATOR });
  roles.perk = discord.addRole(guild.id, 'Perk', { position: 3 });
  roles.manager = discord.addRole(guild.id, 'Manager', { position: 4, permissions: PERMISSIONS.MANAGE_GUILD });
  roles.helper = discord.addRole(guild.id, 'Helper', { position: 5, permissions: PERMISSIONS.MANAGE_MESSAGES });
  roles.moderator = discord.addRole(guild.id, 'Moderator', { position: 6, permissions: PERMISSIONS.MANAGE_GUILD | PERMISSIONS.MANAGE_ROLES });
  roles.elite = discord.addRole(guild.id, 'Elite', { position: 7 });
  for (const id of ['801', '802', '803', '900', '901']) world.roblox.addItem('gamepass', id, `Pass ${id}`);
  people.admin = newMember(world, guild.id, 'admin', [roles.admin]);
  people.manager = newMember(world, guild.id, 'manager', [roles.manager]);
  people.moderator = newMember(world, guild.id, 'moderator', [roles.moderator]);
  await startTestBot(world);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const command = (user: string, name: string, options: Record<string, unknown>[] = []) => world.discord.answer(world.discord.sendCommand(world.guild.id, user, name, options));
const bindAs = (user: string, sub: 'add' | 'remove', roleId: string, pass?: number) =>
  command(user, 'bind', [opt.sub(sub, pass === undefined ? [opt.string('type', 'verified'), opt.role('role', roleId)] : [opt.string('type', 'gamepass'), opt.role('role', roleId), opt.integer('id', pass)])]);
const bindsOf = (roleId: string) => world.bot!.db.bind.count({ where: { roleId } });
const has = (user: string, roleId: string) => world.discord.memberRoles(world.guild.id, user).includes(roleId);

describe('/bind needs what Discord needs to give the role by hand', () => {
  test('Manage Server alone cannot bind a role that carries Administrator, nor any other role', async () => {
    const reply = await bindAs(people.manager, 'add', roles.admin);
    expect(reply).toMatch(/@Admin carries Administrator: only the server owner or an Administrator can bind a role with staff powers/);
    expect(await bindsOf(roles.admin)).toBe(0);
    // A plain role below theirs: Manage Roles is what is missing, and only that is said.
    const perk = await bindAs(people.manager, 'add', roles.perk);
    expect(perk).toMatch(/You could not give @Perk by hand, so you cannot bind it: you do not have the Manage Roles permission\./);
    // Above theirs: both are missing, and both are named.
    expect(await bindAs(people.manager, 'add', roles.elite)).toMatch(/you do not have the Manage Roles permission, and @Elite is not below your highest role @Manager/);
    expect(await bindsOf(roles.perk)).toBe(0);
    expect(await bindsOf(roles.elite)).toBe(0);
    // And so /verify hands out nothing: the attack of issue 11 ends at /bind.
    world.roblox.addUser({ id: '9101', name: 'Escalator' });
    await verifyByProfile(world, world.guild.id, people.manager, '9101');
    expect(has(people.manager, roles.admin)).toBe(false);
    expect(world.discord.roleWrites.filter((w) => w.roleId === roles.admin)).toEqual([]);
  });

  test('Manage Roles binds and unbinds only roles below the member\'s own highest role, never one with staff powers', async () => {
    expect(await bindAs(people.moderator, 'add', roles.elite, 801)).toMatch(/You could not give @Elite by hand, so you cannot bind it: @Elite is not below your highest role @Moderator\./);
    expect(await bindsOf(roles.elite)).toBe(0);
    expect(await bindAs(people.moderator, 'add', roles.helper, 801)).toMatch(/@Helper carries Manage Messages: only the server owner or an Administrator/);
    expect(await bindsOf(roles.helper)).toBe(0);
    expect(await bindAs(people.moderator, 'add', roles.perk, 801)).toContain(`Bound <@&${roles.perk}> to game pass Pass 801 (801)`);
    expect(await bindAs(people.moderator, 'remove', roles.perk, 801)).toContain('Removed the bind');
    // The owner's bind of a role above the moderator's stays out of the moderator's reach.
    expect(await bindAs(world.guild.ownerId, 'add', roles.elite, 801)).toContain('Bound');
    expect(await bindAs(people.moderator, 'remove', roles.elite, 801)).toMatch(/You could not take @Elite by hand, so you cannot remove its bind: @Elite is not below your highest role @Moderator/);
    expect(await bindsOf(roles.elite)).toBe(1);
  });

  test('an Administrator may bind a role with staff powers, which it then gives with those powers and no more', async () => {
    const reply = await bindAs(people.admin, 'add', roles.helper, 802);
    expect(reply).toContain(`Bound <@&${roles.helper}> to game pass Pass 802 (802)`);
    expect(reply).toContain('It carries Manage Messages');
    world.roblox.addUser({ id: '9102', name: 'HelperOne', items: [{ kind: 'gamepass', id: '802' }] });
    world.roblox.addUser({ id: '9103', name: 'HelperTwo', items: [{ kind: 'gamepass', id: '802' }] });
    const first = newMember(world, world.guild.id, 'helper-one');
    const second = newMember(world, world.guild.id, 'helper-two');
    await verifyByProfile(world, world.guild.id, first, '9102');
    expect(has(first, roles.helper)).toBe(true); // approved as it was bound
    // Later the role gains Administrator: that was never approved.
    world.discord.updateRole(world.guild.id, roles.helper, { permissions: PERMISSIONS.MANAGE_MESSAGES | PERMISSIONS.ADMINISTRATOR });
    try {
      expect(await verifyByProfile(world, world.guild.id, second, '9103')).toContain('@Helper has gained Administrator since it was bound');
      expect(has(second, roles.helper)).toBe(false);
      expect(has(first, roles.helper)).toBe(true);
    } finally {
      world.discord.updateRole(world.guild.id, roles.helper, { permissions: PERMISSIONS.MANAGE_MESSAGES });
    }
  });
});

describe('permissions are judged server-wide, never from the channel', () => {
  test('an overwrite granting Manage Roles in this channel only lends nothing', async () => {
    const { discord, guild } = world;
    const lender = newMember(world, guild.id, 'lender', [roles.manager]);
    const target = newMember(world, guild.id, 'lent-target');
    discord.setOverwrites(guild.id, [{ id: lender, type: 1, allow: PERMISSIONS.MANAGE_ROLES, deny: 0n }]);
    try {
      // Discord tells the bot they have Manage Roles here (the interaction's member.permissions)...
      expect(discord.channelPermissionsOf(guild, lender) & PERMISSIONS.MANAGE_ROLES).toBe(PERMISSIONS.MANAGE_ROLES);
      expect(discord.permissionsOf(guild, lender) & PERMISSIONS.MANAGE_ROLES).toBe(0n);
      // ...and the bot goes by what they have in the server.
      expect(await command(lender, 'check', [opt.user('member', target)])).toMatch(/`\/check` needs the Manage Roles permission/);
      expect(await command(lender, 'sync')).toMatch(/`\/sync` needs the Manage Roles permission/);
      expect(await command(lender, 'update', [opt.user('member', target)])).toMatch(/needs the Manage Roles permission/);
      expect(await bindAs(lender, 'add', roles.perk, 803)).toMatch(/you do not have the Manage Roles permission/);
      expect(await bindsOf(roles.perk)).toBe(0);
    } finally {
      discord.setOverwrites(guild.id, []);
    }
  });

  test('an overwrite denying Manage Roles in this channel takes nothing from a moderator who has it server-wide', async () => {
    const { discord, guild } = world;
    const target = newMember(world, guild.id, 'denied-target');
    discord.setOverwrites(guild.id, [{ id: roles.moderator, type: 0, allow: 0n, deny: PERMISSIONS.MANAGE_ROLES }]);
    try {
      expect(discord.channelPermissionsOf(guild, people.moderator) & PERMISSIONS.MANAGE_ROLES).toBe(0n);
      expect(await command(people.moderator, 'check', [opt.user('member', target)])).toContain('has no linked Roblox account');
    } finally {
      discord.setOverwrites(guild.id, []);
    }
  });
});

describe('a bound role that gains staff powers later', () => {
  test('is given to nobody more, kept by those who have it, explained in the log and /check, until an Administrator binds it again', async () => {
    const { discord, roblox, guild } = world;
    await command(guild.ownerId, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: guild.channelId }])]);
    const club = discord.addRole(guild.id, 'Club', { position: 1 });
    expect(await bindAs(people.moderator, 'add', club, 900)).toContain('Bound');
    roblox.addUser({ id: '9201', name: 'EarlyFan', items: [{ kind: 'gamepass', id: '900' }] });
    roblox.addUser({ id: '9202', name: 'LateFan', items: [{ kind: 'gamepass', id: '900' }] });
    const early = newMember(world, guild.id, 'early');
    const late = newMember(world, guild.id, 'late');
    await verifyByProfile(world, guild.id, early, '9201');
    expect(has(early, club)).toBe(true);

    discord.updateRole(guild.id, club, { permissions: PERMISSIONS.ADMINISTRATOR });
    const verified = await verifyByProfile(world, guild.id, late, '9202');
    expect(verified).toContain('@Club has gained Administrator since it was bound, so the bot gives it to nobody more');
    expect(has(late, club)).toBe(false);
    const before = discord.channelMessages.length;
    await world.bot!.runs.runAll('test');
    expect(has(late, club)).toBe(false);
    expect(has(early, club)).toBe(true); // not taken away: the elevation is the staff's doing
    expect(discord.roleWrites.filter((w) => w.roleId === club && (w.userId === late || w.method === 'DELETE'))).toEqual([]);
    const run = discord.channelMessages.slice(before).map((m) => m.content).find((m) => m.startsWith('🔄'));
    expect(run).toContain('cannot add @Club: @Club has gained Administrator since it was bound');
    const check = await command(guild.ownerId, 'check', [opt.user('member', late)]);
    expect(check).toMatch(/Blocked:\n• <@&\d+>: @Club has gained Administrator since it was bound/);

    // Only the owner or an Administrator can approve it again; then it is given again.
    expect(await bindAs(people.moderator, 'add', club, 900)).toMatch(/@Club carries Administrator: only the server owner or an Administrator/);
    expect(await command(late, 'update')).not.toContain('Roles given');
    expect(await bindAs(people.admin, 'add', club, 900)).toMatch(/already bound to game pass Pass 900 \(900\); its permissions as they are now are approved/);
    expect(await command(late, 'update')).toContain(`Roles given: <@&${club}>`);
  });

  test('is given again once the permission is gone', async () => {
    const { discord, roblox, guild } = world;
    const fans = discord.addRole(guild.id, 'Fans', { position: 1 });
    expect(await bindAs(guild.ownerId, 'add', fans, 901)).toContain('Bound');
    roblox.addUser({ id: '9203', name: 'Kicker', items: [{ kind: 'gamepass', id: '901' }] });
    const member = newMember(world, guild.id, 'kicked-perk');
    discord.updateRole(guild.id, fans, { permissions: PERMISSIONS.KICK_MEMBERS });
    expect(await verifyByProfile(world, guild.id, member, '9203')).toContain('@Fans has gained Kick Members since it was bound');
    expect(has(member, fans)).toBe(false);
    discord.updateRole(guild.id, fans, { permissions: 0n });
    expect(await command(member, 'update')).toContain(`Roles given: <@&${fans}>`);
  });
});
