// Two servers share one bot, and each one's staff plays the other's adversary: nothing they run
// may tell them about the other server's members, nor take the bot's shared Roblox budget for long.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Clock } from '../../src/clock';
import type { FakeGuild } from '../fakes/discord';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, verifyByProfile, type World } from '../harness';

let world: World;
let alpha: FakeGuild;
let beta: FakeGuild;
const roles = { alpha: '', beta: '' };
/** Priority re-checks each server may ask for per hour, kept small so the test can spend it. */
const SHARE = 3;
// The bot's clock runs ahead when a test needs a server's share to refill.
let ahead = 0;
const clock: Clock = { now: () => Date.now() + ahead, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

beforeAll(async () => {
  world = await createWorld();
  alpha = world.guild;
  beta = world.discord.addGuild('Beta');
  roles.alpha = world.discord.addRole(alpha.id, 'Alpha VIP', { position: 3 });
  roles.beta = world.discord.addRole(beta.id, 'Beta VIP', { position: 3 });
  world.roblox.addItem('gamepass', '3101', 'Alpha Pass');
  world.roblox.addItem('gamepass', '3102', 'Beta Pass');
  await startTestBot(world, {}, { clock, priorityShare: SHARE });
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
    // By id, the same answer as for an account nobody linked: not even the stored name gives the link away.
    expect(await command(alpha, alpha.ownerId, 'whois', [opt.string('roblox', '3201')])).toBe('No member of this server is linked to Roblox **3201** (id 3201).');
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

describe('each server\'s share of priority work', () => {
  test('/sync and /update member: are rationed per server, say when to retry, and leave the other server and a member\'s own /update alone', async () => {
    const fans = Array.from({ length: SHARE + 1 }, (_, i) => {
      world.roblox.addUser({ id: String(3300 + i), name: `AlphaFan${i}`, items: [{ kind: 'gamepass', id: '3101' }] });
      return newMember(world, alpha.id, `alpha-fan-${i}`);
    });
    for (const [i, fan] of fans.entries()) await verifyByProfile(world, alpha.id, fan, String(3300 + i));
    world.roblox.addUser({ id: '3400', name: 'BetaFan', items: [{ kind: 'gamepass', id: '3102' }] });
    const betaFan = newMember(world, beta.id, 'beta-fan');
    await verifyByProfile(world, beta.id, betaFan, '3400');

    // Alpha's staff spend Alpha's share: a /sync of more linked members than the share holds...
    expect(await command(alpha, alpha.ownerId, 'sync')).toMatch(/^Sync finished: re-checked \d+ linked member/);
    // ...and every further /sync or /update of someone else waits, and says until when.
    const refused = await command(alpha, alpha.ownerId, 'sync');
    expect(refused).toMatch(new RegExp(`^This server has used its share of priority re-checks for now \\(${SHARE} members an hour.*Try again <t:\\d+:R>`));
    expect(await command(alpha, alpha.ownerId, 'update', [opt.user('member', fans[0]!)])).toMatch(/used its share of priority re-checks/);
    const inventoryReads = world.roblox.count('inventory');
    // A member's own /update is not rationed.
    expect(await command(alpha, fans[0]!, 'update')).toContain('Re-checked you');
    expect(world.roblox.count('inventory')).toBeGreaterThan(inventoryReads);

    // Beta has its own share, untouched by Alpha's.
    expect(await command(beta, beta.ownerId, 'update', [opt.user('member', betaFan)])).toContain(`Re-checked <@${betaFan}>`);
    expect(await command(beta, beta.ownerId, 'sync')).toMatch(/^Sync finished/);

    // At the time the reply gave, Alpha may go again; a minute earlier, not yet.
    const retryAt = Number(refused.match(/<t:(\d+):R>/)![1]) * 1000;
    ahead = retryAt - Date.now() - 60_000;
    expect(await command(alpha, alpha.ownerId, 'sync')).toMatch(/used its share of priority re-checks/);
    ahead = retryAt - Date.now();
    expect(await command(alpha, alpha.ownerId, 'sync')).toMatch(/^Sync finished/);
  });
});
