// The membership index (issue 12): a member is read only in the servers they are in, a cycle asks
// each server about a batch once, and the index stays right through joins, leaves, outages and the
// bot being offline.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { GATEWAY_MIN } from '../../src/sync/presence';
import type { FakeGuild } from '../fakes/discord';
import { createWorld, destroyWorld, expectCleanRun, newMember, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
/** Twelve servers with a game-pass bind each; members are in only a few of them. */
const servers: { guild: FakeGuild; role: string }[] = [];

const indexed = async (discordUserId: string) =>
  (await world.bot!.db.membership.findMany({ where: { discordUserId }, orderBy: { guildId: 'asc' } })).map((row) => row.guildId);
const sorted = (ids: string[]) => [...ids].sort();
const reads = () => world.discord.memberReads.total();

beforeAll(async () => {
  world = await createWorld();
  for (let i = 0; i < 12; i++) {
    const guild = i === 0 ? world.guild : world.discord.addGuild(`Server ${i}`);
    servers.push({ guild, role: world.discord.addRole(guild.id, 'VIP', { position: 3 }) });
  }
  await startTestBot(world);
  for (const { guild, role } of servers) {
    await world.bot!.db.bind.create({ data: { guildId: guild.id, roleId: role, kind: 'gamepass', itemId: '1001', createdBy: guild.ownerId } });
  }
  // The start-up reconciliation: one page of List Guild Members per server, then only events.
  await until(() => world.discord.memberReads.listPages === servers.length, 'the start-up reconciliation');
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  expect(world.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  await destroyWorld(world);
});

test('/verify reads the member only in the servers they are in (at most one read each, plus one)', async () => {
  world.roblox.addUser({ id: '8001', name: 'Traveller', items: [{ kind: 'gamepass', id: '1001' }] });
  const member = newMember(world, servers[0]!.guild.id, 'traveller');
  world.discord.addMember(servers[5]!.guild.id, member);
  await until(async () => (await indexed(member)).length === 2, 'both joins in the index');
  const before = reads();
  await verifyByProfile(world, servers[0]!.guild.id, member, '8001');
  expect(reads() - before).toBeLessThanOrEqual(2 + 1);
  expect(world.discord.memberRoles(servers[0]!.guild.id, member)).toEqual([servers[0]!.role]);
  expect(world.discord.memberRoles(servers[5]!.guild.id, member)).toEqual([servers[5]!.role]);

  const beforeUpdate = reads();
  await world.discord.answer(world.discord.sendCommand(servers[0]!.guild.id, member, 'update'));
  expect(reads() - beforeUpdate).toBeLessThanOrEqual(2);
});

test('a cycle makes at most one member read per server and batch: reads ≤ memberships', async () => {
  const joined: { member: string; homes: string[] }[] = [];
  for (let i = 0; i < 20; i++) {
    world.roblox.addUser({ id: String(8100 + i), name: `Spread${i}`, items: i % 2 ? [{ kind: 'gamepass', id: '1001' }] : [] });
    const homes = [servers[i % 12]!.guild.id, ...(i % 3 === 0 ? [servers[(i + 4) % 12]!.guild.id] : [])];
    const member = newMember(world, homes[0]!, `spread${i}`);
    for (const home of homes.slice(1)) world.discord.addMember(home, member);
    joined.push({ member, homes });
  }
  // Linked once their joins are in the index, so no join-time sync runs alongside the cycle.
  const memberships = joined.reduce((n, j) => n + j.homes.length, 0);
  await until(async () => (await world.bot!.db.membership.count({ where: { discordUserId: { in: joined.map((j) => j.member) } } })) === memberships, 'the joins in the index');
  for (const [i, { member }] of joined.entries()) await world.bot!.db.link.create({ data: { discordUserId: member, robloxUserId: String(8100 + i), robloxUsername: `Spread${i}` } });
  const linked = await world.bot!.db.link.findMany({ select: { discordUserId: true } });
  const total = await world.bot!.db.membership.count({ where: { discordUserId: { in: linked.map((l) => l.discordUserId) } } });
  // Reconciliations still paging from start-up (a quiet machine gets here sooner) are not the cycle's.
  await world.bot!.indexReady();
  const before = { reads: reads(), requests: world.discord.memberRequests.length, listPages: world.discord.memberReads.listPages };
  await world.bot!.runs.runAll('test');
  expect(reads() - before.reads).toBeLessThanOrEqual(total);
  // One batch: never two gateway requests for the same server, and only for servers holding many of it.
  const requests = world.discord.memberRequests.slice(before.requests);
  expect(new Set(requests.map((r) => r.guildId)).size).toBe(requests.length);
  expect(requests.every((r) => r.userIds >= GATEWAY_MIN)).toBe(true);
  expect(world.discord.memberReads.listPages).toBe(before.listPages); // no member list was read
});

test('a member read as absent leaves the index; a join enters it', async () => {
  world.roblox.addUser({ id: '8201', name: 'Ghost', items: [{ kind: 'gamepass', id: '1001' }] });
  const ghost = newMember(world, servers[1]!.guild.id, 'ghost');
  world.discord.addMember(servers[2]!.guild.id, ghost);
  await until(async () => (await indexed(ghost)).length === 2, 'the joins');
  // Gone from server 2 without an event reaching the bot (as if it were missed).
  servers[2]!.guild.members.delete(ghost);
  await verifyByProfile(world, servers[1]!.guild.id, ghost, '8201');
  expect(await indexed(ghost)).toEqual([servers[1]!.guild.id]);
  world.discord.removeMember(servers[1]!.guild.id, ghost);
  await until(async () => (await indexed(ghost)).length === 0, 'the leave');
  world.discord.addMember(servers[3]!.guild.id, ghost);
  await until(() => world.discord.memberRoles(servers[3]!.guild.id, ghost).includes(servers[3]!.role), 'the join-time sync');
  expect(await indexed(ghost)).toEqual([servers[3]!.guild.id]);
});

test('/sync lists the server\'s linked members from the index, never the whole member list', async () => {
  const before = { requests: world.discord.memberRequests.length, listPages: world.discord.memberReads.listPages };
  const answer = await world.discord.answer(world.discord.sendCommand(servers[0]!.guild.id, servers[0]!.guild.ownerId, 'sync'));
  const linkedHere = await world.bot!.db.membership.count({ where: { guildId: servers[0]!.guild.id, discordUserId: { in: (await world.bot!.db.link.findMany()).map((l) => l.discordUserId) } } });
  expect(answer).toContain(`re-checked ${linkedHere} linked member(s)`);
  expect(world.discord.memberRequests.slice(before.requests).every((r) => r.userIds > 0)).toBe(true);
  expect(world.discord.memberReads.listPages).toBe(before.listPages);
});

test('the bot offline while members join and leave, a role is deleted and a server is left: all put right at start', async () => {
  world.roblox.addUser({ id: '8301', name: 'Offline', items: [{ kind: 'gamepass', id: '1001' }] });
  const member = newMember(world, servers[4]!.guild.id, 'offline');
  const left = servers[11]!.guild;
  world.discord.addMember(servers[6]!.guild.id, member);
  world.discord.addMember(left.id, member);
  await until(async () => (await indexed(member)).length === 3, 'the joins');
  await verifyByProfile(world, servers[4]!.guild.id, member, '8301');
  // Followed in each server it was synced in, the one the bot will leave included.
  expect(await world.bot!.db.memberSync.count({ where: { discordUserId: member } })).toBe(3);
  const extra = world.discord.addRole(servers[7]!.guild.id, 'Extra', { position: 2 });
  await world.bot!.db.bind.create({ data: { guildId: servers[7]!.guild.id, roleId: extra, kind: 'verified', itemId: '', createdBy: 'test' } });

  await world.bot!.stop();
  world.discord.removeMember(servers[6]!.guild.id, member); // no event reaches anyone
  world.discord.addMember(servers[8]!.guild.id, member);
  world.discord.deleteRole(servers[7]!.guild.id, extra);
  world.discord.removeGuild(left.id);
  await startTestBot(world);

  await until(async () => sorted(await indexed(member)).join() === sorted([servers[4]!.guild.id, servers[8]!.guild.id]).join(), 'the reconciled index', 15_000);
  expect(await world.bot!.db.bind.count({ where: { roleId: extra } })).toBe(0);
  expect(await world.bot!.db.membership.count({ where: { guildId: left.id } })).toBe(0);
  expect(await world.bot!.db.memberSync.count({ where: { guildId: left.id } })).toBe(0);
  expect(await world.bot!.db.memberSync.count({ where: { guildId: servers[6]!.guild.id, discordUserId: member } })).toBe(0);
  await world.bot!.runs.runAll('after-offline');
  expect(world.discord.memberRoles(servers[8]!.guild.id, member)).toEqual([servers[8]!.role]);
});

test('a server back from an outage is reconciled: joins and leaves during it are seen', async () => {
  const guild = servers[9]!.guild;
  world.roblox.addUser({ id: '8401', name: 'Outage', items: [{ kind: 'gamepass', id: '1001' }] });
  const stayer = newMember(world, guild.id, 'stayer');
  await until(async () => (await indexed(stayer)).includes(guild.id), 'the join');
  world.discord.setAvailable(guild.id, false);
  const joiner = world.discord.addUser('joined-in-outage');
  world.discord.addMember(guild.id, joiner); // not delivered: the server is unavailable
  world.discord.removeMember(guild.id, stayer);
  await world.bot!.db.link.create({ data: { discordUserId: joiner, robloxUserId: '8401', robloxUsername: 'Outage' } });
  world.discord.setAvailable(guild.id, true);
  await until(async () => (await indexed(joiner)).includes(guild.id) && !(await indexed(stayer)).includes(guild.id), 'the reconciliation', 15_000);
});

test('a lost Manage Roles is logged once per server per run, not once per member', async () => {
  const guild = servers[10]!.guild;
  const botRole = [...guild.roles.values()].find((r) => r.name === 'gatepass')!;
  world.discord.updateRole(guild.id, botRole.id, { permissions: 0n });
  const members = [0, 1, 2].map((i) => {
    world.roblox.addUser({ id: String(8500 + i), name: `NoPerm${i}`, items: [{ kind: 'gamepass', id: '1001' }] });
    return newMember(world, guild.id, `noperm${i}`);
  });
  await until(async () => (await world.bot!.db.membership.count({ where: { guildId: guild.id, discordUserId: { in: members } } })) === 3, 'the joins');
  for (const [i, member] of members.entries()) await world.bot!.db.link.create({ data: { discordUserId: member, robloxUserId: String(8500 + i), robloxUsername: `NoPerm${i}` } });
  const before = world.logs.length;
  await world.bot!.runs.runAll('no-perm');
  const lines = world.logs.slice(before).filter((l) => l.includes('lacks the Manage Roles permission') && l.includes(guild.id));
  expect(lines).toHaveLength(1);
  world.discord.updateRole(guild.id, botRole.id, { permissions: 1n << 28n });
});

test('expired sign-in states and codes are purged at each tick; follows of servers without binds go', async () => {
  const db = world.bot!.db;
  const past = new Date(Date.now() - 60_000);
  await db.oAuthState.create({ data: { state: 'x'.repeat(43), discordUserId: '1', guildId: servers[0]!.guild.id, requesterName: 'a', serverName: 'b', codeVerifier: 'c', expiresAt: past } });
  await db.verification.create({ data: { id: 'expired-code', discordUserId: '1', robloxUserId: '1', robloxUsername: 'a', code: 'c', guildId: servers[0]!.guild.id, expiresAt: past } });
  const unbound = servers[9]!.guild.id;
  await db.memberSync.create({ data: { guildId: unbound, discordUserId: '1', since: past } });
  await db.bind.deleteMany({ where: { guildId: unbound } });
  await world.bot!.stop();
  await startTestBot(world, { syncCron: '* * * * * *' });
  await until(async () => (await world.bot!.db.oAuthState.count()) + (await world.bot!.db.verification.count()) === 0, 'the purge', 5_000);
  expect(await world.bot!.db.memberSync.count({ where: { guildId: unbound } })).toBe(0);
});


