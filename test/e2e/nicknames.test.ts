// Nicknames from the linked Roblox account, end to end against the fake Discord's Modify Guild
// Member: the template's checks, link, join and sync, only differences written, the owner, members
// not below the bot and the bypass role left alone, /check saying why, and a 403 not hammered.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
const roles = { bypass: '', high: '' };
const people = { plain: '', long: '', high: '', bypassed: '', other: '' };
let bareGuild = '';

beforeAll(async () => {
  world = await createWorld();
  const { discord, guild } = world;
  roles.bypass = discord.addRole(guild.id, 'Keeps Nick', { position: 2 });
  roles.high = discord.addRole(guild.id, 'Above Bot', { position: 11 });
  people.plain = newMember(world, guild.id, 'plain');
  people.long = newMember(world, guild.id, 'long');
  people.high = newMember(world, guild.id, 'high', [roles.high]);
  people.bypassed = newMember(world, guild.id, 'bypassed', [roles.bypass]);
  people.other = newMember(world, guild.id, 'other');
  world.roblox.addUser({ id: '9701', name: 'builder_bob', displayName: 'Bob' });
  world.roblox.addUser({ id: '9702', name: 'builder_bob_the_2nd', displayName: 'TheGreatestBuilder' });
  world.roblox.addUser({ id: '9703', name: 'HighUser', displayName: 'High' });
  world.roblox.addUser({ id: '9704', name: 'Bypasser', displayName: 'Bypass' });
  world.roblox.addUser({ id: '9705', name: 'OwnerUser', displayName: 'Owner' });
  world.roblox.addUser({ id: '9706', name: 'same_name' });
  // A server whose bot role lacks Manage Nicknames.
  bareGuild = discord.addGuild('No Nicknames', { botCanManageNicknames: false }).id;
  await startTestBot(world);
  await command(world.guild.ownerId, 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: world.guild.channelId }])]);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const command = (user: string, name: string, options: Record<string, unknown>[] = [], guildId = world.guild.id) => world.discord.answer(world.discord.sendCommand(guildId, user, name, options));
const setTemplate = (template?: string, guildId = world.guild.id, user = world.discord.guilds.get(guildId)!.ownerId) =>
  command(user, 'settings', [opt.sub('nickname', template === undefined ? [] : [opt.string('template', template)])], guildId);
const nick = (user: string) => world.discord.nickOf(world.guild.id, user);
const writesTo = (user: string) => world.discord.nickWrites.filter((w) => w.userId === user);
const posted = () => world.discord.channelMessages.filter((m) => m.guildId === world.guild.id).map((m) => m.content);

describe('/settings nickname', () => {
  test('an unknown placeholder is refused by name and nothing is saved', async () => {
    expect(await setTemplate('{roblox-name} [{rank}]')).toMatch(/Unknown placeholder `\{rank\}`.*Nothing was changed/s);
    expect(await setTemplate('{group-rank:abc}')).toMatch(/needs a group id/);
    expect(await command(world.guild.ownerId, 'settings', [opt.sub('show')])).toContain('Nickname template: none');
  });

  test('a valid template is saved, shown and logged', async () => {
    const reply = await setTemplate('{smart-name} {group-rank:55}');
    expect(reply).toContain("Linked members' nicknames will follow `{smart-name} {group-rank:55}`");
    expect(reply).not.toContain('Manage Nicknames');
    expect(await command(world.guild.ownerId, 'settings', [opt.sub('show')])).toContain('Nickname template: `{smart-name} {group-rank:55}`');
    expect(posted()).toContainEqual(`⚙️ <@${world.guild.ownerId}> set the nickname template to \`{smart-name} {group-rank:55}\`.`);
    expect(await setTemplate('{smart-name}')).toContain('{smart-name}');
  });

  test('without Manage Nicknames the reply says so', async () => {
    expect(await setTemplate('{roblox-name}', bareGuild)).toContain('I do not have the **Manage Nicknames** permission here');
  });
});

describe('nicknames follow the link', () => {
  test('set on link, with an audit-log reason; the display name comes from Get User', async () => {
    await verifyByProfile(world, world.guild.id, people.plain, '9701');
    expect(nick(people.plain)).toBe('Bob (builder_bob)');
    expect(writesTo(people.plain)).toEqual([expect.objectContaining({ nick: 'Bob (builder_bob)', status: 200, reason: 'gatepass: nickname from the linked Roblox account builder_bob' })]);
    expect((await world.bot!.db.link.findUnique({ where: { discordUserId: people.plain } }))?.robloxDisplayName).toBe('Bob');
    // The same name twice is not repeated in brackets.
    await verifyByProfile(world, world.guild.id, people.other, '9706');
    expect(nick(people.other)).toBe('same_name');
  });

  test('too long: the username in brackets is shortened, never past 32 characters', async () => {
    await verifyByProfile(world, world.guild.id, people.long, '9702');
    expect(nick(people.long)).toBe('TheGreatestBuilder (builder_bo…)');
  });

  test('written only when it differs: a sync with nothing to change writes nothing; a nickname changed by hand is put back', async () => {
    const before = world.discord.nickWrites.length;
    await command(world.guild.ownerId, 'sync');
    expect(world.discord.nickWrites.length).toBe(before);
    world.discord.setNick(world.guild.id, people.plain, 'whatever');
    await command(world.guild.ownerId, 'sync');
    expect(nick(people.plain)).toBe('Bob (builder_bob)');
    expect(world.discord.nickWrites.length).toBe(before + 1);
  });

  test('the owner, a member not below the bot and one with the bypass role are left alone, and /check says why', async () => {
    await command(world.guild.ownerId, 'settings', [opt.sub('nickname-bypass', [opt.role('role', roles.bypass)])]);
    expect(posted()).toContainEqual(`⚙️ <@${world.guild.ownerId}> set the nickname bypass role to <@&${roles.bypass}>.`);
    world.discord.setNick(world.guild.id, people.bypassed, 'My Own Name');
    await verifyByProfile(world, world.guild.id, world.guild.ownerId, '9705');
    await verifyByProfile(world, world.guild.id, people.high, '9703');
    await verifyByProfile(world, world.guild.id, people.bypassed, '9704');
    await command(world.guild.ownerId, 'sync');
    for (const user of [world.guild.ownerId, people.high, people.bypassed]) expect(writesTo(user)).toEqual([]);
    expect(nick(people.bypassed)).toBe('My Own Name');
    const check = (user: string) => command(world.guild.ownerId, 'check', [opt.user('member', user)]);
    expect(await check(world.guild.ownerId)).toContain("Nickname: left alone (the server owner's nickname cannot be changed by a bot)");
    expect(await check(people.high)).toContain("Nickname: left alone (their highest role @Above Bot is not below the bot's highest role @gatepass)");
    expect(await check(people.bypassed)).toContain('Nickname: left alone (has the nickname bypass role)');
    expect(await check(people.plain)).toContain('Nickname: “Bob (builder_bob)”, as the template gives.');
  });

  test('set on join', async () => {
    world.discord.removeMember(world.guild.id, people.long);
    await until(async () => (await world.bot!.db.membership.count({ where: { guildId: world.guild.id, discordUserId: people.long } })) === 0, 'the leave to reach the index');
    world.discord.addMember(world.guild.id, people.long);
    await until(() => nick(people.long) === 'TheGreatestBuilder (builder_bo…)', 'the nickname to be set on join');
  });

  test('a refused write (403) is remembered: the next syncs do not ask again until the member changes', async () => {
    world.discord.setNick(world.guild.id, people.plain, 'changed by hand');
    const patches = () => world.discord.requests.filter((r) => r.method === 'PATCH' && r.template === '/guilds/{guild_id}/members/{user_id}').length;
    world.discord.fault = (method, template) => (method === 'PATCH' && template === '/guilds/{guild_id}/members/{user_id}' ? { status: 403, body: { code: 50013, message: 'Missing Permissions' } } : undefined);
    try {
      await command(people.plain, 'update');
      const after = patches();
      expect(after).toBeGreaterThan(0);
      expect(await command(people.plain, 'update')).toMatch(/cannot set the nickname: Discord refused to change the nickname/);
      expect(patches()).toBe(after);
    } finally {
      world.discord.fault = undefined;
    }
    // A change to the member (here, their nickname by hand) may make the write succeed: it is tried again.
    world.discord.setNick(world.guild.id, people.plain, 'again');
    expect(await command(people.plain, 'update')).toContain('Nickname set to “Bob (builder_bob)”.');
    expect(nick(people.plain)).toBe('Bob (builder_bob)');
  });

  test('{group-rank:<id>} shows the rank read in the same check, and nothing while it is unknown', async () => {
    world.roblox.addGroup('55', 'Builders Guild', [1, 200]);
    world.roblox.addUser({ id: '9707', name: 'ranked_rita' });
    world.roblox.setRanks('55', '9707', [1, 200]); // several roles: the highest counts
    expect(await setTemplate('{roblox-name} {group-rank:55}')).toContain('{group-rank:55}');
    const rita = newMember(world, world.guild.id, 'rita');
    await verifyByProfile(world, world.guild.id, rita, '9707');
    expect(nick(rita)).toBe('ranked_rita 200');
    // Roblox cannot be asked: the rank is unknown and renders as nothing; no other group is asked about.
    world.roblox.fault = (route) => (route === 'groupMemberships' ? { status: 503, body: { code: 'UNAVAILABLE', message: 'down' } } : undefined);
    try {
      await command(rita, 'update');
      expect(nick(rita)).toBe('ranked_rita');
    } finally {
      world.roblox.fault = undefined;
    }
    await command(rita, 'update');
    expect(nick(rita)).toBe('ranked_rita 200');
  });

  test('turned off: nothing more is written', async () => {
    expect(await setTemplate()).toContain('Nicknames turned off');
    world.discord.setNick(world.guild.id, people.plain, 'free at last');
    const before = world.discord.nickWrites.length;
    await command(world.guild.ownerId, 'sync');
    expect(world.discord.nickWrites.length).toBe(before);
    expect(nick(people.plain)).toBe('free at last');
  });
});
