// The fault-injection suite: the real bot against the fakes for hundreds of sync cycles while
// Roblox and Discord fail in every way the shared docs describe, in random bursts, members unlink,
// their accounts move to others, they join and leave servers, sometimes while the bot is offline.
// Every role write is judged, as it happens, against the truth of that moment: who is linked to
// which account, what that account owns, and its rank in the group (the first server's unverified
// role: who has no link; its nicknames: the name of the account linked at that moment).
//
// Reproduce a run: FAULT_SEED=<seed> FAULT_CYCLES=<n> npx vitest run test/faults (FAULT_TIMING=1 prints
// each cycle; FAULT_LOGS=<file> writes the bots' logs there at the end)
//
// FAULT_MODE=multi runs the same suite against three bot processes in queue mode, one gateway shard
// each, on one PostgreSQL database and one Redis (see fleet.ts); the two servers sit on two of the
// shards (the third process holds none), a cycle's batch jobs are taken by all three, a restart is
// one bot's, and a bot may also be killed (SIGKILL) mid-cycle, its jobs then taken by the others
// once their locks lapse. Replay:
//   TEST_DATABASE=postgres TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres FAULT_MODE=multi \
//     FAULT_SEED=<seed> FAULT_CYCLES=<n> npx vitest run test/faults
// In either mode the seed replays the episodes of faults, the truth's moves, the links' changes,
// restarts and kills; which request an episode fails, and which bot takes which job, is timing's.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { collectibleBind, groupBind, ruleBind } from '../../src/bindings';
import type { FakeGuild, NickWrite, RoleWrite } from '../fakes/discord';
import type { FakeItem, FakeItemKind, RobloxFault, RobloxRoute } from '../fakes/roblox';
import { createWorld, destroyWorld, ROBLOX_KEY, startTestBot, type World } from '../harness';
import { botFleet, type Bots, oneBot, onNextShard } from './fleet';

const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CYCLES = Number(process.env.FAULT_CYCLES ?? 200);
const MEMBERS = 10;
const MULTI = process.env.FAULT_MODE === 'multi';
if (!['single', 'multi', undefined].includes(process.env.FAULT_MODE)) throw new Error(`FAULT_MODE must be single or multi, got "${process.env.FAULT_MODE}"`);

/** mulberry32: a small seeded generator, so a failing run can be replayed; with its two uses. */
function draws(seed: number) {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, chance: (p: number) => random() < p, pick: <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]! };
}
const { random, chance, pick } = draws(SEED);
/**
 * Which request of an episode fails, and how, draws from a stream of its own: how many requests the
 * bot sends depends on timing, and drawing them from `random` would shift every later episode, move
 * and restart, so a seed would not replay them.
 */
const perRequest = draws(SEED ^ 0x5bd1e995);

const ROBLOX_FAULTS = ['500', '503', 'timeout', 'malformed', 'no-items', 'repeated-token', '429', '429-no-retry-after', 'private', 'key-rejected'] as const;
const DISCORD_FAULTS = ['429', '5xx', '50013', 'member-leaves', 'role-deleted'] as const;
type RobloxFaultName = (typeof ROBLOX_FAULTS)[number];
type DiscordFaultName = (typeof DISCORD_FAULTS)[number];

/** A bind and, for collectible, group and rule binds, the truth it stands for, judged independently of the bot. */
type FaultBind =
  | { kind: FakeItemKind | 'verified'; id: string }
  | { kind: 'collectible'; count: number; assetTypes: string[] }
  | { kind: 'group'; groupId: string; min: number; max: number }
  | { kind: 'rule'; text: string; truth: (owns: (kind: FakeItemKind, id: string) => boolean, collectibles: (types?: string[]) => number, rank: (groupId: string) => number) => boolean };

/** The group of the group binds, and the ranks of its roles; members hold one or two of them at a time. */
const GROUP = '8001';
const RANKS = [1, 50, 200];

interface BoundRole {
  guild: FakeGuild;
  roleId: string;
  binds: FaultBind[];
}

let world: World;
let bots: Bots;
/** The model of the truth: `robloxId` is the account the member is linked to now (none after an unlink or a move). */
const members: { discordId: string; robloxId: string | undefined }[] = [];
/** Every Roblox account of the suite; one not held by a member is free to be linked again. */
const accounts: string[] = [];
const bound: BoundRole[] = [];
const ITEMS: FakeItem[] = [
  { kind: 'gamepass', id: '1001' },
  { kind: 'gamepass', id: '1002' },
  { kind: 'badge', id: '2002' },
  { kind: 'asset', id: '3003' },
  // Collectibles (limiteds) of several asset types, some counted by the binds and some not.
  { kind: 'asset', id: '4001', assetType: 'HAT', collectible: true },
  { kind: 'asset', id: '4002', assetType: 'FACE', collectible: true },
  { kind: 'asset', id: '4003', assetType: 'GEAR', collectible: true },
  { kind: 'asset', id: '4004', assetType: 'HAT', collectible: true, copies: 2 },
];
const figures = { unlinks: 0, moves: 0, relinks: 0, joins: 0, leaves: 0, offline: 0, injected429: 0, cycles: 0, writes: 0, wrongRemovals: 0, wrongGrants: 0, crashes: 0, restarts: 0, kills: 0, lostLinks: 0, lostBinds: 0, faultyCycles: 0, convergedWithin: -1, unverifiedWrites: 0, nickWrites: 0, wrongNicks: 0 };
const violations: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** The first server's unverified role: held exactly by its members with no link. */
const unverified = { guildId: '', roleId: '' };

/** The account the member holds now; none for the servers' owners, outside the model and never linked (the start-up pass reaches them). */
const accountOf = (discordId: string) => members.find((m) => m.discordId === discordId)?.robloxId;

function entitled(guildId: string, discordId: string, roleId: string): boolean | undefined {
  if (guildId === unverified.guildId && roleId === unverified.roleId) return !accountOf(discordId);
  const role = bound.find((r) => r.guild.id === guildId && r.roleId === roleId);
  if (!role) return undefined; // a scratch role, deleted on purpose: no truth to judge by
  const robloxId = accountOf(discordId);
  if (!robloxId) return false; // unlinked: no account to own anything, not even "verified"
  const owns = (kind: FakeItemKind, id: string) => world.roblox.owns(robloxId, kind, id);
  const collectibles = (types: string[] = []) => world.roblox.collectibles(robloxId, types);
  const rank = (groupId: string) => world.roblox.rankIn(groupId, robloxId);
  return role.binds.some((b) => {
    if (b.kind === 'verified') return true;
    if (b.kind === 'collectible') return collectibles(b.assetTypes) >= b.count;
    if (b.kind === 'group') return rank(b.groupId) >= b.min && rank(b.groupId) <= b.max;
    if (b.kind === 'rule') return b.truth(owns, collectibles, rank);
    return owns(b.kind, b.id);
  });
}

function judge(write: RoleWrite): void {
  figures.writes++;
  if (write.roleId === unverified.roleId) figures.unverifiedWrites++;
  const truth = entitled(write.guildId, write.userId, write.roleId);
  if (truth === undefined) return;
  if (write.method === 'DELETE' && truth) {
    figures.wrongRemovals++;
    violations.push(`wrong removal: role ${write.roleId} from ${write.userId} (${write.reason})`);
  }
  if (write.method === 'PUT' && !truth) {
    figures.wrongGrants++;
    violations.push(`wrong grant: role ${write.roleId} to ${write.userId} (${write.reason})`);
  }
}

/** The first server's nicknames are `{roblox-name}`: a nickname written must name the account linked at that moment. */
function judgeNick(write: NickWrite): void {
  figures.nickWrites++;
  const robloxId = accountOf(write.userId);
  if (write.guildId === world.guild.id && robloxId && write.nick === `Member${robloxId}`) return;
  figures.wrongNicks++;
  violations.push(`wrong nickname: ${write.nick} for ${write.userId}, linked to ${robloxId ?? 'nothing'}`);
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  world = await createWorld();
  const { discord, roblox } = world;
  roblox.rateLimit = { perWindow: 100, windowMs: WINDOW_MS, sendRetryAfter: true };
  const a = world.guild;
  const b = discord.addGuild('Second Server', MULTI ? onNextShard(a) : {});
  const role = (guild: FakeGuild, name: string, position: number, binds: BoundRole['binds']) => {
    bound.push({ guild, roleId: discord.addRole(guild.id, name, { position }), binds });
  };
  role(a, 'VIP', 5, [{ kind: 'gamepass', id: '1001' }]);
  role(a, 'Gold', 4, [{ kind: 'gamepass', id: '1002' }, { kind: 'badge', id: '2002' }]); // two binds, one role
  role(a, 'Verified', 3, [{ kind: 'verified', id: '' }]);
  role(a, 'Collector', 2, [{ kind: 'collectible', count: 2, assetTypes: ['FACE', 'HAT'] }]);
  role(a, 'Combo', 1, [
    {
      kind: 'rule',
      text: 'gamepass:1001 and not badge:2002 or atleast(2, asset:3003, gamepass:1002, collectibles>=3)',
      truth: (owns, collectibles) => (owns('gamepass', '1001') && !owns('badge', '2002')) || [owns('asset', '3003'), owns('gamepass', '1002'), collectibles() >= 3].filter(Boolean).length >= 2,
    },
  ]);
  // Group ranks: the highest of a member's roles counts; "not in the group" is a bind too.
  role(a, 'Officer', 7, [{ kind: 'group', groupId: GROUP, min: 50, max: 255 }]);
  role(a, 'Outsider', 6, [{ kind: 'group', groupId: GROUP, min: 0, max: 0 }, { kind: 'gamepass', id: '1002' }]);
  role(b, 'Ranked', 5, [
    { kind: 'rule', text: 'group:8001>=200 or (badge:2002 and not group:8001)', truth: (owns, _c, rank) => rank(GROUP) >= 200 || (owns('badge', '2002') && rank(GROUP) === 0) },
  ]);
  Object.assign(unverified, { guildId: a.id, roleId: discord.addRole(a.id, 'Unverified', { position: 6 }) });
  role(b, 'Hat', 4, [{ kind: 'asset', id: '3003' }]);
  role(b, 'VIP', 3, [{ kind: 'gamepass', id: '1001' }]);
  // Server B asks about no collectibles: a rule of items only.
  role(b, 'Either', 2, [{ kind: 'rule', text: 'NOT gamepass:1002 AND (badge:2002 OR asset:3003)', truth: (owns) => !owns('gamepass', '1002') && (owns('badge', '2002') || owns('asset', '3003')) }]);
  roblox.addGroup(GROUP, 'Fault Guild', RANKS);
  for (let i = 0; i < MEMBERS; i++) {
    const discordId = discord.addUser(`member${i}`);
    const robloxId = String(70_000 + i);
    discord.addMember(a.id, discordId);
    if (i % 3 !== 0) discord.addMember(b.id, discordId);
    roblox.addUser({ id: robloxId, name: `Member${i}`, items: ITEMS.filter(() => chance(0.5)).map((item) => ({ ...item })) });
    rerank(robloxId);
    members.push({ discordId, robloxId });
    accounts.push(robloxId);
  }
  // Two accounts nobody holds at first, for relinks.
  for (const robloxId of ['70100', '70101']) {
    roblox.addUser({ id: robloxId, name: `Spare${robloxId}`, items: ITEMS.filter(() => chance(0.5)) });
    rerank(robloxId);
    accounts.push(robloxId);
  }
  bots = MULTI ? await botFleet(world, BOT_OPTIONS) : oneBot(world, start);
  await bots.start();
  const db = bots.db;
  for (const r of bound) {
    for (const bind of r.binds) await db.bind.create({ data: { guildId: r.guild.id, createdBy: r.guild.ownerId, ...bindRow(r.roleId, bind) } });
  }
  for (const m of members) await db.link.create({ data: { discordUserId: m.discordId, robloxUserId: m.robloxId!, robloxUsername: `Member${m.robloxId}` } });
  await db.serverSettings.create({ data: { guildId: a.id, unverifiedRoleId: unverified.roleId, nicknameTemplate: '{roblox-name}' } });
  discord.onRoleWrite = judge;
  discord.onNickWrite = judgeNick;
  const replay = `${MULTI ? 'TEST_DATABASE=postgres FAULT_MODE=multi ' : ''}FAULT_SEED=${SEED} FAULT_CYCLES=${CYCLES} npx vitest run test/faults`;
  console.log(`fault suite: seed ${SEED}, ${CYCLES} cycles, ${bots.describe()}, ${MEMBERS} members in 2 servers, linking and moving between them, item, collectible, group and rule binds (replay: ${replay})`);
}, 120_000);

/** The row /bind add would write. */
function bindRow(roleId: string, bind: FaultBind): { roleId: string; kind: string; itemId: string; expression: string | null } {
  if (bind.kind === 'collectible') return { roleId, kind: bind.kind, itemId: collectibleBind(roleId, bind.count, bind.assetTypes).itemId, expression: null };
  if (bind.kind === 'rule') return { roleId, kind: bind.kind, itemId: ruleBind(roleId, bind.text).itemId, expression: bind.text };
  if (bind.kind === 'group') return { roleId, kind: bind.kind, itemId: groupBind(roleId, bind.groupId, bind.min, bind.max).itemId, expression: null };
  return { roleId, kind: bind.kind, itemId: bind.id, expression: null };
}

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  if (process.env.FAULT_LOGS) writeFileSync(process.env.FAULT_LOGS, world.logs.join(''));
  await bots?.close();
  await destroyWorld(world);
});

/** Roblox's 100 per minute, with time compressed 60×: 100 per second for the bot and the fake alike. */
const WINDOW_MS = 1_000;
/** The key guard's longest wait, compressed like the window (30 minutes in production). */
const KEY_RETRY_MAX_MS = 500;

const BOT_OPTIONS = { robloxHttp: { timeoutMs: 80, backoffBaseMs: 5, maxRetryWaitMs: 300 }, robloxKeyRetryBaseMs: 50, robloxKeyRetryMaxMs: KEY_RETRY_MAX_MS, robloxWindowMs: WINDOW_MS };

function start() {
  return startTestBot(world, {}, BOT_OPTIONS);
}

/** A Roblox fault for one request of the episode, or none. */
function robloxFault(name: RobloxFaultName | undefined, route: RobloxRoute): RobloxFault | undefined {
  if (!name || route === 'usernames' || !perRequest.chance(0.6)) return undefined;
  switch (name) {
    case '500':
      return { status: 500, body: { code: 'INTERNAL', message: 'internal' } };
    case '503':
      return { status: 503, body: 'Service Unavailable' };
    case 'timeout':
      return { hang: true };
    case 'malformed':
      return { status: 200, body: perRequest.pick(['{"inventoryItems": [', '<html>', '{"inventoryItems": [{"gamePassDetails": {"gamePassId": 7}}], "nextPageToken": 5}']) };
    case 'no-items':
      // An odd 200: no list at all is not an empty inventory.
      return { status: 200, body: perRequest.pick(['{}', '{"nextPageToken": ""}', 'null']) };
    case '429':
      return { status: 429, body: { code: 'RESOURCE_EXHAUSTED' }, headers: { 'retry-after': perRequest.pick(['0.05', '0.1', '3600']) } };
    case '429-no-retry-after':
      return { status: 429, body: { code: 'RESOURCE_EXHAUSTED' } };
    default:
      return undefined; // 'private', 'repeated-token' and 'key-rejected' change state instead
  }
}

/** A member joins the second server, or leaves it (never the first: every member stays somewhere). */
function drift(member: (typeof members)[number]): void {
  const second = bound.find((r) => r.guild.id !== world.guild.id)!.guild;
  if (second.members.has(member.discordId)) {
    world.discord.removeMember(second.id, member.discordId);
    figures.leaves++;
  } else {
    world.discord.addMember(second.id, member.discordId);
    figures.joins++;
  }
}

/** Between cycles: a member unlinks (through /unlink), an account moves to another member, or an unlinked member links again. */
async function moveTheLinks(): Promise<void> {
  // Through the bot's own link changes, as a proof stores them: in the locks of the members a change
  // affects. The truth changes inside those locks, where the link does: a check of the member in
  // flight finishes with the link it read first.
  const links = bots.links;
  const held = new Set(members.map((m) => m.robloxId));
  const linked = members.filter((m) => m.robloxId);
  const roll = random();
  if (roll < 0.08 && linked.length > 1) {
    const member = pick(linked);
    member.robloxId = undefined; // the truth changes first: from now on nothing may be granted to them
    const answer = await world.discord.answer(world.discord.sendCommand(world.guild.id, member.discordId, 'unlink'), 30_000);
    if (!answer.includes('Unlinked')) throw new Error(`unlink failed: ${answer}`);
    figures.unlinks++;
  } else if (roll < 0.14 && linked.length > 1) {
    // The account moves: the taker proves it (both proofs store it through links.save).
    const from = pick(linked);
    const to = pick(members.filter((m) => m !== from));
    const account = from.robloxId!;
    await links.save({ discordUserId: to.discordId, robloxUserId: account, robloxUsername: `Member${account}`, method: 'profile', at: new Date() }, async () => {
      from.robloxId = undefined;
      to.robloxId = account;
      return true;
    });
    figures.moves++;
  } else if (roll < 0.24) {
    const member = members.find((m) => !m.robloxId);
    const free = accounts.find((id) => !held.has(id));
    if (!member || !free) return;
    await links.save({ discordUserId: member.discordId, robloxUserId: free, robloxUsername: `Member${free}`, method: 'profile', at: new Date() }, async () => {
      member.robloxId = free;
      return true;
    });
    figures.relinks++;
  }
}

async function cycle(roblox: RobloxFaultName | undefined, discordFault: DiscordFaultName | undefined, restart: boolean, offline = false, kill = false): Promise<void> {
  const { discord } = world;
  world.roblox.fault = (route) => {
    const fault = robloxFault(roblox, route);
    if (fault?.status === 429) figures.injected429++;
    return fault;
  };
  const privateNow = roblox === 'private' ? accounts.filter(() => chance(0.5)) : [];
  for (const id of privateNow) world.roblox.users.get(id)!.inventoryPublic = false;
  if (roblox === 'key-rejected') world.roblox.apiKeys.delete(ROBLOX_KEY);
  // One item a page, so a member's answer spans pages, and the second page's token comes back again.
  if (roblox === 'repeated-token') {
    world.roblox.pageSizeCap = 1;
    world.roblox.repeatToken = true;
  }

  let scratch: { guildId: string; roleId: string } | undefined;
  if (discordFault === 'role-deleted') {
    const guild = pick(bound).guild;
    scratch = { guildId: guild.id, roleId: discord.addRole(guild.id, 'Scratch', { position: 2 }) };
    await bots.db.bind.create({ data: { guildId: guild.id, roleId: scratch.roleId, kind: 'gamepass', itemId: '1001', createdBy: guild.ownerId } });
  }
  const refusedRole = pick(bound).roleId;
  discord.fault = (method, template, params) => {
    const nickname = method === 'PATCH' && template === '/guilds/{guild_id}/members/{user_id}';
    if ((!template.endsWith('/roles/{role_id}') && !nickname) || !perRequest.chance(0.5)) return undefined;
    if (discordFault === '429') return { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.05, global: false, code: 0 }, headers: { 'retry-after': '0.05', 'x-ratelimit-scope': 'user', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.05' } };
    if (discordFault === '5xx') return { status: perRequest.pick([500, 502, 503]), body: { message: 'Server Error', code: 0 } };
    if (discordFault === '50013' && (nickname || params.role_id === refusedRole)) return { status: 403, body: { code: 50013, message: 'Missing Permissions' } };
    return undefined;
  };

  const run = bots.runAll('fault-cycle');
  const leaving = discordFault === 'member-leaves' ? pick(members) : undefined;
  const leftFrom = leaving ? [...discord.guilds.values()].filter((g) => g.members.has(leaving.discordId)) : [];
  const drifting = chance(0.15) ? pick(members) : undefined;
  if (leaving || scratch || drifting) {
    await new Promise((r) => setTimeout(r, random() * 40));
    for (const guild of leftFrom) discord.removeMember(guild.id, leaving!.discordId);
    if (scratch) discord.deleteRole(scratch.guildId, scratch.roleId);
    if (drifting && drifting !== leaving) drift(drifting);
  }
  if (offline) {
    // The bot is down while members join and leave the second server and ownership changes.
    await new Promise((r) => setTimeout(r, random() * 60));
    await bots.stop();
    await run;
    for (let k = 0; k < 1 + Math.floor(random() * 3); k++) drift(pick(members));
    moveTheTruth();
    await bots.start();
    figures.offline++;
  } else if (restart || kill) {
    if (restart) await new Promise((r) => setTimeout(r, random() * 60));
    // The scratch role's bind goes with its role (when the bot hears of the deletion, or finds it at start): not lost.
    const binds = () => bots.db.bind.count({ where: scratch ? { NOT: { roleId: scratch.roleId } } : {} });
    const before = { links: await bots.db.link.count(), binds: await binds() };
    // The bot started again resumes the open run by itself (several: the others go on with it).
    if (restart) await bots.restart(pick);
    else await bots.kill!(pick);
    await run;
    figures.restarts += restart ? 1 : 0;
    figures.kills += kill ? 1 : 0;
    figures.lostLinks += before.links - (await bots.db.link.count());
    figures.lostBinds += before.binds - (await binds());
  } else {
    await run;
  }
  await bots.settled();

  // The episode's state changes are undone after the cycle; a rejoin starts with no roles.
  world.roblox.fault = undefined;
  discord.fault = undefined;
  for (const id of privateNow) world.roblox.users.get(id)!.inventoryPublic = true;
  world.roblox.apiKeys.set(ROBLOX_KEY, 'owner-1');
  world.roblox.pageSizeCap = 100;
  world.roblox.repeatToken = false;
  for (const guild of leftFrom) discord.addMember(guild.id, leaving!.discordId);
  if (scratch) await bots.db.bind.deleteMany({ where: { roleId: scratch.roleId } });
  if (leftFrom.length > 0 || drifting || offline || restart || kill) await bots.quiet(); // before the truth moves again
  figures.cycles++;
}

/** A member leaves the group, or holds one or two of its roles (the highest counts). */
function rerank(robloxId: string): void {
  world.roblox.setRanks(GROUP, robloxId, chance(0.3) ? [] : RANKS.filter(() => chance(0.4)).concat(pick(RANKS)));
}

/** Between cycles, somebody buys or loses something, or is promoted, demoted, joins or leaves the group. */
function moveTheTruth(): void {
  if (chance(0.15)) rerank(pick(accounts));
  if (!chance(0.4)) return;
  const account = pick(accounts);
  const item = pick(ITEMS);
  if (world.roblox.owns(account, item.kind, item.id)) world.roblox.take(account, item.kind, item.id);
  else world.roblox.users.get(account)!.items.push({ ...item });
}

function mismatches(): string[] {
  const wrong: string[] = [];
  for (const role of [...bound, { guild: world.guild, roleId: unverified.roleId }]) {
    for (const m of members) {
      if (!role.guild.members.has(m.discordId)) continue;
      const has = world.discord.memberRoles(role.guild.id, m.discordId).includes(role.roleId);
      if (has !== entitled(role.guild.id, m.discordId, role.roleId)) wrong.push(`${m.discordId} ${has ? 'has' : 'lacks'} ${role.roleId}`);
    }
  }
  for (const m of members) {
    const nick = world.discord.nickOf(world.guild.id, m.discordId);
    if (m.robloxId && nick !== `Member${m.robloxId}`) wrong.push(`${m.discordId} is nicknamed ${nick}, not Member${m.robloxId}`);
  }
  return wrong;
}

test(`never wrongs a member through ${CYCLES} cycles of faults, and converges once they stop`, async () => {
  let roblox: RobloxFaultName | undefined;
  let discordFault: DiscordFaultName | undefined;
  let episodeLeft = 0;
  for (let i = 0; i < CYCLES; i++) {
    if (episodeLeft-- <= 0) {
      // Bursts: a fault holds for a few cycles, and calm spells come between them.
      roblox = chance(0.7) ? pick(ROBLOX_FAULTS) : undefined;
      discordFault = chance(0.5) ? pick(DISCORD_FAULTS) : undefined;
      episodeLeft = 1 + Math.floor(random() * 5);
    }
    if (roblox || discordFault) figures.faultyCycles++;
    moveTheTruth();
    await moveTheLinks();
    const restart = chance(1 / 25);
    const offline = !restart && chance(1 / 25);
    // Several bots: one may die abruptly (one bot alone only restarts; its random stream stays as it was).
    const kill = bots.kill !== undefined && !restart && !offline && chance(1 / 8);
    const t0 = Date.now();
    await cycle(roblox, discordFault, restart, offline, kill);
    if (process.env.FAULT_TIMING) console.log(`cycle ${i}: ${Date.now() - t0} ms roblox=${roblox} discord=${discordFault} restart=${restart} offline=${offline} kill=${kill}`);
  }

  // Faults stop. A restored key is noticed at the guard's next probe, and a group's roles that could
  // not be read are asked for again a rate window later: let both lapse.
  // An admin touching the roles clears remembered 403s, as fixing one would.
  await new Promise((r) => setTimeout(r, Math.max(KEY_RETRY_MAX_MS, WINDOW_MS) * 1.25));
  for (const guild of world.discord.guilds.values()) {
    const any = bound.find((r) => r.guild.id === guild.id);
    if (any) world.discord.updateRole(guild.id, any.roleId, {});
  }
  for (let extra = 1; extra <= 2 && figures.convergedWithin < 0; extra++) {
    await cycle(undefined, undefined, false);
    if (mismatches().length === 0) figures.convergedWithin = extra;
  }
  const own429 = (['inventory', 'user', 'groupMemberships', 'groupRoles'] as const).reduce((n, route) => n + world.roblox.count(route, 429), 0) - figures.injected429;
  const errors = world.logs.filter((l) => /"level":(50|60)/.test(l) && !l.includes('ROBLOX_API_KEY'));
  figures.crashes = unhandled.length + errors.length;
  // What crashed, so a failing seed says why without a second run.
  for (const crash of [...unhandled, ...errors]) console.log('crash:', crash);

  console.log(
    [
      `fault suite figures (seed ${SEED}):`,
      `  sync cycles:               ${figures.cycles} (${figures.faultyCycles} with faults injected, ${figures.restarts} bot restarts mid-run, ${MULTI ? `${figures.kills} bots killed mid-run, ` : ''}${figures.offline} offline spells with members moving)`,
      `  links:                     ${figures.unlinks} unlinks, ${figures.moves} accounts moved, ${figures.relinks} relinks`,
      `  server membership:         ${figures.joins} joins, ${figures.leaves} leaves (besides the injected leave-and-rejoin)`,
      `  role writes judged:        ${figures.writes} (${figures.unverifiedWrites} of the unverified role)`,
      `  nickname writes judged:    ${figures.nickWrites} (${figures.wrongNicks} wrong)`,
      `  wrong removals:            ${figures.wrongRemovals}`,
      `  wrong grants:              ${figures.wrongGrants}`,
      `  crashes / unhandled:       ${figures.crashes}`,
      `  converged within:          ${figures.convergedWithin < 0 ? 'NOT within 2 cycles' : `${figures.convergedWithin} cycle(s)`} after faults stopped`,
      `  links / binds lost:        ${figures.lostLinks} / ${figures.lostBinds}`,
      `  Roblox 429s:               ${figures.injected429} injected, ${own429} provoked by the bot's own pacing`,
    ].join('\n'),
  );
  expect(own429).toBe(0);
  expect(violations).toEqual([]);
  expect(figures.crashes).toBe(0);
  if (mismatches().length > 0) {
    const unknown = await bots.db.outcome.findMany({ where: { status: 'unknown' } });
    console.log('not converged:', mismatches(), 'unknown outcomes:', unknown.map((o) => `${o.robloxUserId} ${o.kind}:${o.itemId} ${o.reason} since ${o.since.toISOString()}`));
  }
  expect(mismatches()).toEqual([]);
  expect(figures.convergedWithin).toBeGreaterThan(0);
  expect(figures.lostLinks + figures.lostBinds).toBe(0);
  if (CYCLES >= 200) expect(figures.unlinks * figures.moves * figures.relinks * figures.joins * figures.leaves * figures.offline * figures.unverifiedWrites * figures.nickWrites).toBeGreaterThan(0);
  expect(figures.cycles).toBeGreaterThanOrEqual(Math.min(CYCLES, 200));
  expect(world.discord.specErrors).toEqual([]);
  expect(world.roblox.specErrors).toEqual([]);
}, 600_000);
