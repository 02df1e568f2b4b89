// Two shards of one bot, each its own real discord.js Client holding one shard of two (as two shard
// processes would, here in one test process on one database). A member's one check covers their
// servers on both shards: the process that checks them reads the other shard's server over REST,
// fresh for that check, and acts there only as the bot's role there allows. Housekeeping in one
// shard never takes the other shard's servers for servers the bot left.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Bot, startBot } from '../../src/bot';
import { createLogger } from '../../src/log';
import { type FakeGuild, PERMISSIONS, shardOf } from '../fakes/discord';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let zero: FakeGuild;
let one: FakeGuild;
let shardOne: Bot;
const roles = { zero: '', one: '' };
const SHARD_ZERO = { ids: [0], count: 2 };

/** A member of both servers who owns the pass both bind, linked through /verify in shard 0's server. */
async function linkedFan(name: string, robloxId: string): Promise<string> {
  world.roblox.addUser({ id: robloxId, name, items: [{ kind: 'gamepass', id: '4101' }] });
  const member = newMember(world, zero.id, name);
  world.discord.addMember(one.id, member);
  // Shard 1's process indexes its server's joins; the check below finds the member there through that index.
  await until(async () => (await shardOne.db.membership.count({ where: { guildId: one.id, discordUserId: member } })) === 1, 'shard 1 indexing the join');
  expect(await verifyByProfile(world, zero.id, member, robloxId)).toContain(`Linked to ${name}`);
  return member;
}

const writesIn = (guildId: string, userId: string) => world.discord.roleWrites.filter((w) => w.guildId === guildId && w.userId === userId);

beforeAll(async () => {
  world = await createWorld();
  zero = world.discord.addGuild('Shard Zero', { onShard: [0, 2] });
  one = world.discord.addGuild('Shard One', { onShard: [1, 2] });
  roles.zero = world.discord.addRole(zero.id, 'Zero VIP', { position: 3 });
  roles.one = world.discord.addRole(one.id, 'One VIP', { position: 3 });
  world.roblox.addItem('gamepass', '4101', 'Shared Pass');
  await startTestBot(world, {}, { shards: SHARD_ZERO });
  shardOne = await startBot(world.config, { log: createLogger('debug', { write: (line: string) => void world.logs.push(line) }), shards: { ids: [1], count: 2 } });
  await bind(world, zero.id, roles.zero, 'gamepass', 4101);
  await bind(world, one.id, roles.one, 'gamepass', 4101);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await shardOne?.stop();
  await destroyWorld(world);
});

describe('two shards of one bot', () => {
  test('each shard identifies as itself and is sent only the servers Discord routes to it', () => {
    expect(world.discord.identifies).toEqual(expect.arrayContaining([[0, 2], [1, 2]]));
    expect(world.bot!.client.guilds.cache.has(zero.id)).toBe(true);
    expect(world.bot!.client.guilds.cache.has(one.id)).toBe(false);
    expect(shardOne.client.guilds.cache.has(one.id)).toBe(true);
    expect(shardOne.client.guilds.cache.has(zero.id)).toBe(false);
    // The harness's own server sits on whichever shard its id says.
    const home = shardOf(world.guild.id, 2) === 0 ? world.bot! : shardOne;
    expect(home.client.guilds.cache.has(world.guild.id)).toBe(true);
  });

  test("one check gives the member's roles in both shards' servers, the other shard's server read over REST", async () => {
    const member = await linkedFan('BothShards', '4201');
    await until(() => world.discord.memberRoles(one.id, member).includes(roles.one), 'the role in shard 1\'s server');
    expect(world.discord.memberRoles(zero.id, member)).toContain(roles.zero);
    // Shard 0 read the server itself (Get Guild) rather than asking a gateway that does not hold it.
    expect(world.discord.requests.some((r) => r.template === '/guilds/{guild_id}' && r.path === `/guilds/${one.id}` && r.status === 200)).toBe(true);
    expect(writesIn(one.id, member).map((w) => w.status)).toEqual([204]);
  });

  test("the other shard's server is read fresh for each check: a role moved above the bot there is not written", async () => {
    // Shard 1 hears of the move; shard 0 does not, and must see it in its snapshot.
    world.discord.updateRole(one.id, roles.one, { position: 20 });
    const member = await linkedFan('AfterTheMove', '4202');
    expect(world.discord.memberRoles(zero.id, member)).toContain(roles.zero);
    await world.discord.answer(world.discord.sendCommand(zero.id, member, 'update'));
    // The reason is that of the snapshot's hierarchy check, as the sync reports it.
    expect(world.logs.some((line) => line.includes(one.id) && line.includes("is not below the bot's highest role"))).toBe(true);
    // Refused before asking Discord: no 403 wasted, no role given.
    expect(writesIn(one.id, member)).toEqual([]);
    expect(world.discord.memberRoles(one.id, member)).not.toContain(roles.one);
    world.discord.updateRole(one.id, roles.one, { position: 3 });
  });

  test('a role there that gained Administrator since it was bound is given to nobody more', async () => {
    world.discord.updateRole(one.id, roles.one, { permissions: PERMISSIONS.ADMINISTRATOR });
    const member = await linkedFan('AfterAdmin', '4203');
    expect(world.discord.memberRoles(zero.id, member)).toContain(roles.zero);
    await world.discord.answer(world.discord.sendCommand(zero.id, member, 'update'));
    expect(writesIn(one.id, member)).toEqual([]);
    world.discord.updateRole(one.id, roles.one, { permissions: 0n });
  });

  test('a server that cannot be read over REST is unknown for the check: nothing changes there', async () => {
    world.discord.fault = (_method, template, params) => (template === '/guilds/{guild_id}' && params.guild_id === one.id ? { status: 403, body: { code: 50001, message: 'Missing Access' } } : undefined);
    try {
      const member = await linkedFan('Unreadable', '4204');
      expect(world.discord.memberRoles(zero.id, member)).toContain(roles.zero);
      expect(writesIn(one.id, member)).toEqual([]);
      expect(world.logs.some((line) => line.includes('could not read a server another shard holds'))).toBe(true);
    } finally {
      world.discord.fault = undefined;
    }
  });

  test("a cycle in shard 0 reads shard 1's server in bulk over REST, never through a gateway that does not hold it", async () => {
    const members: string[] = [];
    for (let i = 0; i < 12; i++) {
      const member = newMember(world, zero.id, `bulk${i}`);
      world.discord.addMember(one.id, member);
      world.roblox.addUser({ id: String(4300 + i), name: `Bulk${i}`, items: [{ kind: 'gamepass', id: '4101' }] });
      await world.bot!.db.link.create({ data: { discordUserId: member, robloxUserId: String(4300 + i), robloxUsername: `Bulk${i}` } });
      members.push(member);
    }
    const indexed = (guildId: string) => world.bot!.db.membership.count({ where: { guildId, discordUserId: { in: members } } });
    await until(async () => (await indexed(zero.id)) === 12 && (await indexed(one.id)) === 12, 'both shards indexing the joins');
    const restReads = () => world.discord.requests.filter((r) => r.method === 'GET' && r.template === '/guilds/{guild_id}/members/{user_id}' && r.path.startsWith(`/guilds/${one.id}/`)).length;
    const readsBefore = restReads();
    await world.bot!.runs.runAll('test');
    for (const member of members) {
      expect(world.discord.memberRoles(zero.id, member)).toEqual([roles.zero]);
      expect(world.discord.memberRoles(one.id, member)).toEqual([roles.one]);
    }
    // Shard 0's server in one gateway request; shard 1's member by member over REST, as a bulk read, not its failure's fallback.
    expect(world.discord.memberRequests.filter((r) => r.guildId === one.id)).toEqual([]);
    expect(restReads() - readsBefore).toBeGreaterThanOrEqual(12);
    expect(world.logs.some((line) => line.includes('bulk member read failed'))).toBe(false);
  });

  test('Discord closes a shard that makes no sense (4010) and a bot with too few shards (4011); the bot says what to fix', async () => {
    const log = createLogger('silent');
    await expect(startBot(world.config, { log, shards: { ids: [2], count: 2 } })).rejects.toThrow(/^Discord refused the shard this process identified as \(gateway close 4010, invalid shard\): check SHARD_COUNT\.$/);
    world.discord.requiredShards = 3;
    try {
      await expect(startBot(world.config, { log, shards: { ids: [1], count: 2 } })).rejects.toThrow(/gateway close 4011, sharding required\): set SHARD_COUNT=auto/);
    } finally {
      world.discord.requiredShards = 1;
    }
    expect(world.discord.gatewayCloses).toEqual([{ code: 4010, shard: [2, 2] }, { code: 4011, shard: [1, 2] }]);
  });

  test("housekeeping in shard 0 keeps shard 1's servers: its binds, follows and index rows", async () => {
    const where = { where: { guildId: one.id } };
    const before = { binds: await shardOne.db.bind.count(where), follows: await shardOne.db.memberSync.count(where), index: await shardOne.db.membership.count(where) };
    expect(before.binds).toBeGreaterThan(0);
    expect(before.follows).toBeGreaterThan(0);
    expect(before.index).toBeGreaterThan(0);
    // A restart of shard 0 tidies what changed while it was offline: servers left, follows nobody needs.
    await world.bot!.stop();
    await startTestBot(world, {}, { shards: SHARD_ZERO });
    await world.bot!.indexReady();
    const after = { binds: await shardOne.db.bind.count(where), follows: await shardOne.db.memberSync.count(where), index: await shardOne.db.membership.count(where) };
    expect(after).toEqual(before);
  });
});
