// Two servers share one bot, and each one's staff plays the other's adversary: nothing they run
// may tell them about the other server's members.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FakeGuild } from '../fakes/discord';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
let alpha: FakeGuild;
let beta: FakeGuild;
const roles = { alpha: '', beta: '' };

beforeAll(async () => {
  world = await createWorld();
  alpha = world.guild;
  beta = world.discord.addGuild('Beta');
  roles.alpha = world.discord.addRole(alpha.id, 'Alpha VIP', { position: 3 });
  roles.beta = world.discord.addRole(beta.id, 'Beta VIP', { position: 3 });
  await startTestBot(world);
  await bind(world, alpha.id, roles.alpha, 'gamepass', 3101);
  await bind(world, beta.id, roles.beta, 'gamepass', 3102);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const command = (guild: FakeGuild, user: string, name: string, options: Record<string, unknown>[] = []) => world.discord.answer(world.discord.sendCommand(guild.id, user, name, options));

describe('privacy between servers', () => {
  test('/check and /update member: on a user who is only in another server say only that they are not a member here', async () => {
    world.roblox.addUser({ id: '3201', name: 'BetaOnlyFan', items: [{ kind: 'gamepass', id: '3102' }] });
    const stranger = newMember(world, beta.id, 'beta-only');
    await verifyByProfile(world, beta.id, stranger, '3201');
    // Beta's staff see the link: there is something to hide.
    expect(await command(beta, beta.ownerId, 'check', [opt.user('member', stranger)])).toContain('is linked to Roblox **BetaOnlyFan** (id 3201)');

    const robloxCalls = world.roblox.requests.length;
    const writes = world.discord.roleWrites.length;
    for (const name of ['check', 'update']) {
      const reply = await command(alpha, alpha.ownerId, name, [opt.user('member', stranger)]);
      expect(reply).toBe(`<@${stranger}> is not a member of this server.`);
    }
    // Nothing was looked up or changed on their behalf either.
    expect(world.roblox.requests.length).toBe(robloxCalls);
    expect(world.discord.roleWrites.length).toBe(writes);
    expect(await command(alpha, alpha.ownerId, 'whois', [opt.string('roblox', '3201')])).toBe('No member of this server is linked to Roblox **BetaOnlyFan** (id 3201).');
  });

  test('a member who has left by the time the bot reads them is not described either', async () => {
    world.roblox.addUser({ id: '3202', name: 'JustLeft', items: [{ kind: 'gamepass', id: '3101' }] });
    const leaver = newMember(world, alpha.id, 'leaver');
    await verifyByProfile(world, alpha.id, leaver, '3202');
    // Discord's payload still names them as a member; the bot's own read says they are gone.
    world.discord.fault = (method, template, params) =>
      method === 'GET' && template === '/guilds/{guild_id}/members/{user_id}' && params.user_id === leaver ? { status: 404, body: { code: 10007, message: 'Unknown Member' } } : undefined;
    try {
      expect(await command(alpha, alpha.ownerId, 'check', [opt.user('member', leaver)])).toBe(`<@${leaver}> is not a member of this server.`);
      expect(await command(alpha, alpha.ownerId, 'update', [opt.user('member', leaver)])).toBe(`<@${leaver}> is not a member of this server.`);
    } finally {
      world.discord.fault = undefined;
    }
  });
});
