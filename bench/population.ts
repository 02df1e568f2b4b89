// The benchmark's world: fakes holding N members across servers with overlapping binds, and a
// migrated database of links and binds, built directly (not through commands) to be quick.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectibleBind, groupBind, ruleBind } from '../src/bindings';
import type { Config } from '../src/config';
import { migrateDatabase, openDatabase } from '../src/database/client';
import { createPostgresDatabase } from '../test/database';
import { FakeDiscord } from '../test/fakes/discord';
import { type FakeItem, type FakeItemKind, FakeRoblox } from '../test/fakes/roblox';

export interface Population {
  members: number;
  servers: number;
  bindsPerServer: number;
  /** Chance that a member owns any one item. */
  ownership: number;
  /** Give members their correct roles up front, so a cycle measures checking, not granting. */
  preassigned: boolean;
  latencyMs: number;
  perWindow: number;
  windowMs: number;
  /** Each member in 1 to 3 servers chosen at random (instead of the three servers' fixed shares). */
  spread?: boolean;
  /** Members in the servers but not linked, for the benchmark to /verify. */
  unlinked?: number;
  /** How many servers (the last ones) also have a collectible bind: "at least 150 collectibles". */
  collectibleServers?: number;
  /** Whether the second server binds group ranks: "rank ≥ 50" in a group, and a rule with a group atom. */
  groupBinds?: boolean;
  /** Rule binds per server, each over items of that server (no collectible atoms). */
  rulesPerServer?: number;
  /** Gateway shards: server s gets an id Discord routes to shard s % shards, so each shard holds its share. */
  shards?: number;
  /** A PostgreSQL server (postgresql://…/postgres): a fresh database there instead of a SQLite file. */
  databaseServer?: string;
}

/** The collectible bind's count: a collector above 100 needs a second page. */
export const COLLECTOR_COUNT = 150;
/** The benchmark's group: ranks 1, 50 and 200; half the members are in it, some with two roles. */
export const BENCH_GROUP = '9001';

const KEY = 'bench-roblox-key';
const MEMBERSHIP = [0.9, 0.5, 0.3, 0.3, 0.3];

export async function buildWorld(p: Population) {
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const discord = new FakeDiscord();
  const roblox = new FakeRoblox();
  roblox.apiKeys.set(KEY, 'bench');
  roblox.rateLimit = { perWindow: p.perWindow, windowMs: p.windowMs, sendRetryAfter: true };
  roblox.fault = () => (p.latencyMs > 0 ? { delayMs: p.latencyMs } : undefined);
  discord.roleBucket = { limit: 1_000_000, windowMs: 1_000 };
  await Promise.all([discord.start(), roblox.start()]);

  if (p.groupBinds) roblox.addGroup(BENCH_GROUP, 'Bench Group', [1, 50, 200]);
  const kinds: FakeItemKind[] = ['gamepass', 'badge', 'asset'];
  const pool = Array.from({ length: 30 }, (_, i) => ({ kind: kinds[i % 3]!, id: String(10_000 + i) }));
  const rulesPerServer = p.rulesPerServer ?? 0;
  const servers = Array.from({ length: p.servers }, (_, s) => {
    const guild = discord.addGuild(`Bench ${s + 1}`, { botRolePosition: p.bindsPerServer + rulesPerServer + 6, onShard: p.shards ? [s % p.shards, p.shards] : undefined });
    const items = [...pool].sort(() => random() - 0.5).slice(0, p.bindsPerServer);
    const binds = items.map((item, r) => ({ item, roleId: discord.addRole(guild.id, `Perk ${r + 1}`, { position: r + 1 }) }));
    const atom = (i: number) => `${items[i % items.length]!.kind}:${items[i % items.length]!.id}`;
    const rules = Array.from({ length: rulesPerServer }, (_, r) => ({
      text: `${atom(r)} and not ${atom(r + 1)} or atleast(2, ${atom(r + 2)}, ${atom(r + 3)}, ${atom(r + 4)})`,
      roleId: discord.addRole(guild.id, `Rule ${r + 1}`, { position: p.bindsPerServer + r + 1 }),
    }));
    const collectible = s >= p.servers - (p.collectibleServers ?? 0) ? { roleId: discord.addRole(guild.id, 'Collector', { position: p.bindsPerServer + rulesPerServer + 1 }) } : undefined;
    const groups =
      p.groupBinds && s === 1
        ? [
            { roleId: discord.addRole(guild.id, 'Officer', { position: p.bindsPerServer + rulesPerServer + 2 }), itemId: groupBind('', BENCH_GROUP, 50, 255).itemId, kind: 'group', expression: null },
            { roleId: discord.addRole(guild.id, 'Staff with pass', { position: p.bindsPerServer + rulesPerServer + 3 }), itemId: ruleBind('', `group:${BENCH_GROUP}>=200 and ${atom(0)}`).itemId, kind: 'rule', expression: `group:${BENCH_GROUP}>=200 and ${atom(0)}` },
          ]
        : [];
    return { guild, binds, rules, collectible, groups };
  });

  const links: { discordUserId: string; robloxUserId: string; robloxUsername: string }[] = [];
  const toVerify: { discordUserId: string; robloxUserId: string; servers: string[] }[] = [];
  const spreadOver = () => {
    const count = Math.min(servers.length, 1 + Math.floor(random() * 3));
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(random() * servers.length));
    return [...chosen].map((s) => servers[s]!);
  };
  for (let m = 0; m < p.members + (p.unlinked ?? 0); m++) {
    const discordUserId = discord.addUser(`m${m}`);
    const robloxUserId = String(1_000_000 + m);
    const items = pool.filter(() => random() < p.ownership);
    // With a collectible bind, a tenth are collectors (up to 300 limiteds) and the rest hold a few.
    const limiteds = p.collectibleServers ? Math.floor(random() * (random() < 0.1 ? 300 : 10)) : 0;
    const collectibles: FakeItem[] = Array.from({ length: limiteds }, (_, i) => ({ kind: 'asset', id: String(900_000 + i), assetType: i % 2 ? 'HAT' : 'FACE', collectible: true }));
    roblox.addUser({ id: robloxUserId, name: `Bench${m}`, items: [...items, ...collectibles] });
    if (p.groupBinds && random() < 0.5) roblox.setRanks(BENCH_GROUP, robloxUserId, random() < 0.2 ? [1, 200] : [random() < 0.5 ? 1 : 50]);
    const owned = new Set(items.map((i) => `${i.kind}:${i.id}`));
    const joined = p.spread ? spreadOver() : servers.filter((_, s) => random() < (MEMBERSHIP[s] ?? 0.3));
    const homes = joined.length > 0 ? joined : [servers[0]!];
    for (const { guild, binds } of homes) {
      const roles = p.preassigned ? binds.filter((b) => owned.has(`${b.item.kind}:${b.item.id}`)).map((b) => b.roleId) : [];
      guild.members.set(discordUserId, { roles, joinedAt: new Date().toISOString() });
    }
    if (m < p.members) links.push({ discordUserId, robloxUserId, robloxUsername: `Bench${m}` });
    else toVerify.push({ discordUserId, robloxUserId, servers: homes.map((h) => h.guild.id) });
  }

  const dir = mkdtempSync(join(tmpdir(), 'gatepass-bench-'));
  const databaseUrl = p.databaseServer ? await createPostgresDatabase(p.databaseServer) : `file:${join(dir, 'bench.db')}`;
  await migrateDatabase(databaseUrl);
  const db = openDatabase(databaseUrl);
  await db.bind.createMany({
    data: servers.flatMap(({ guild, binds, rules, collectible, groups }) => [
      ...groups.map((g) => ({ guildId: guild.id, roleId: g.roleId, kind: g.kind, itemId: g.itemId, expression: g.expression, createdBy: guild.ownerId })),
      ...binds.map((b) => ({ guildId: guild.id, roleId: b.roleId, kind: b.item.kind, itemId: b.item.id, createdBy: guild.ownerId })),
      ...rules.map((r) => ({ guildId: guild.id, roleId: r.roleId, kind: 'rule', itemId: ruleBind(r.roleId, r.text).itemId, expression: r.text, createdBy: guild.ownerId })),
      ...(collectible ? [{ guildId: guild.id, roleId: collectible.roleId, kind: 'collectible', itemId: collectibleBind(collectible.roleId, COLLECTOR_COUNT, []).itemId, createdBy: guild.ownerId }] : []),
    ]),
  });
  for (let i = 0; i < links.length; i += 5_000) await db.link.createMany({ data: links.slice(i, i + 5_000) });
  await db.$disconnect();

  const config: Config = {
    discordToken: discord.token,
    discordApplicationId: discord.applicationId,
    robloxApiKey: KEY,
    databaseUrl,
    syncCron: '0 0 1 1 *',
    robloxInventoryRateLimit: p.perWindow,
    robloxUsersRateLimit: 1000,
    robloxUsernamesRateLimit: 12,
    robloxGroupsRateLimit: 300,
    discordApiBaseUrl: `${discord.url}/api`,
    robloxApiBaseUrl: roblox.url,
    robloxUsersApiBaseUrl: roblox.url,
    robloxBadgesApiBaseUrl: roblox.badgesUrl,
    robloxEconomyApiBaseUrl: roblox.economyUrl,
    logLevel: 'warn',
  };
  return { discord, roblox, config, dir, servers, links, toVerify };
}
