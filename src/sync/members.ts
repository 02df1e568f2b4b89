// Re-checking members: for each, every server they share with the bot, one ownership check for
// all of those servers' items, and per server the role plan applied as role-by-role writes.
// Members go in batches: a batch's reads are a few queries and its writes one transaction of
// only what changed, so a steady population costs the database almost nothing.

import { type Bind, boundCollectibles, boundItems, describeBind, type ItemRef } from '../bindings';
import type { Clock } from '../clock';
import { bindsByServer } from '../database/binds';
import { among, type Database } from '../database/client';
import { type Answer, joinAnswers, loadOutcomes, saveOutcomeChanges } from '../database/outcomes';
import type { DiscordSide, MemberRead, Server } from '../discord/servers';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Grants } from '../oauth/grants';
import { checkOwnership, type Outcome, type OwnershipReport, type Tally } from '../ownership';
import type { RobloxApi } from '../roblox/api';
import { type RoleAccess, type RoleDecision, type RolePlan, planRoles } from '../roleplan';
import { type SyncStats, timeDatabase } from './stats';

export interface SyncDeps {
  db: Database;
  roblox: RobloxApi;
  discord: DiscordSide;
  log: Logger;
  clock: Clock;
  /** Members' own Roblox sign-ins, when OAuth is configured. */
  grants?: Grants;
  metrics?: Metrics;
  /** Where time goes, for benchmarks. */
  stats?: SyncStats;
}

export interface ServerResult {
  guildId: string;
  serverName: string;
  /** False when the member is not in this server. */
  present: boolean;
  plan?: RolePlan;
  added: string[];
  removed: string[];
  problems: string[];
}

export interface MemberResult {
  discordUserId: string;
  robloxUserId?: string;
  servers: ServerResult[];
  /** Items whose ownership could not be established this time. */
  unknown: number;
}

export interface SyncOptions {
  /** Someone is waiting on this sync (a command, a join): its Roblox requests jump the queue. */
  priority?: boolean;
  /** Read the batch's roles with one gateway request per server instead of a REST call per member. */
  readInBulk?: boolean;
  /** Asked before each member: once true, the rest of the batch is left for later. */
  stopping?: () => boolean;
  /** Told as each member is done (before the batch is recorded), for live progress. */
  onChecked?: (result: MemberResult) => void;
}

export interface MemberSync {
  /** Syncs one member now. */
  one(discordUserId: string, options?: SyncOptions): Promise<MemberResult>;
  /** Syncs a batch; members skipped because of `stopping` are absent from the results. */
  batch(discordUserIds: readonly string[], options?: SyncOptions): Promise<MemberResult[]>;
}

/** Members checked at once within a batch; Roblox's budget, not this, sets the pace. */
const CONCURRENCY = 8;

export function createMemberSync(deps: SyncDeps): MemberSync {
  const locks = new Map<string, Promise<unknown>>();
  // Checks of the same member never overlap; the lock covers one member's check, not a whole
  // batch, so a member someone is waiting on is never held up behind a hundred others.
  const locked = <T,>(id: string, work: () => Promise<T>): Promise<T> => {
    const next = (locks.get(id) ?? Promise.resolve()).catch(() => undefined).then(work);
    locks.set(id, next);
    const forget = () => locks.get(id) === next && locks.delete(id);
    next.then(forget, forget);
    return next;
  };
  const batch = (ids: readonly string[], options: SyncOptions = {}) => syncBatch(deps, [...new Set(ids)], options, locked);
  return {
    batch,
    one: async (discordUserId, options) => {
      const [result] = await batch([discordUserId], options);
      if (!result) throw new Error('sync of one member was stopped before it began');
      return result;
    },
  };
}

interface Checked {
  result: MemberResult;
  /** Item outcomes and collectible tallies, as stored. */
  outcomes: Map<string, Answer>;
}

type Locked = <T>(id: string, work: () => Promise<T>) => Promise<T>;

async function syncBatch(deps: SyncDeps, ids: string[], options: SyncOptions, locked: Locked): Promise<MemberResult[]> {
  const { db, discord } = deps;
  const [links, bindsByGuild] = await timeDatabase(deps.stats, () =>
    Promise.all([
      db.$queryRaw<{ discordUserId: string; robloxUserId: string; robloxUsername: string }[]>`
        SELECT "discordUserId", "robloxUserId", "robloxUsername" FROM "Link" WHERE ${among('discordUserId', ids)}`,
      bindsByServer(db, discord.serverIds()),
    ]),
  );
  const linkOf = new Map(links.map((link) => [link.discordUserId, link]));
  const known = options.readInBulk ? await readInBulk(deps, ids, [...bindsByGuild.keys()]) : new Map<string, Map<string, Set<string>>>();

  const checked: Checked[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !options.stopping?.()) {
      const id = ids[next++]!;
      const link = linkOf.get(id);
      const account = link ? { robloxUserId: link.robloxUserId, robloxUsername: link.robloxUsername } : undefined;
      const done = await locked(id, () => checkMember(deps, id, account, bindsByGuild, known, options.priority));
      checked.push(done);
      options.onChecked?.(done.result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  await timeDatabase(deps.stats, () => record(deps, checked, new Set(links.map((l) => l.discordUserId))));
  return checked.map((c) => c.result);
}

async function checkMember(
  deps: SyncDeps,
  discordUserId: string,
  link: { robloxUserId: string; robloxUsername: string } | undefined,
  bindsByGuild: Map<string, Bind[]>,
  known: ReadonlyMap<string, ReadonlyMap<string, Set<string>>>,
  priority: boolean | undefined,
): Promise<Checked> {
  const result: MemberResult = { discordUserId, robloxUserId: link?.robloxUserId, servers: [], unknown: 0 };
  const present: { server: Server; binds: Bind[]; roles: Set<string>; result: ServerResult }[] = [];
  for (const [guildId, binds] of bindsByGuild) {
    const server = deps.discord.server(guildId);
    if (!server) continue;
    const serverResult: ServerResult = { guildId, serverName: server.name, present: true, added: [], removed: [], problems: [] };
    result.servers.push(serverResult);
    const member = await readMember(server, discordUserId, known.get(guildId));
    if (member.kind === 'absent') serverResult.present = false;
    else if (member.kind === 'error') serverResult.problems.push(`could not read the member: ${member.detail}`);
    else present.push({ server, binds, roles: member.roles, result: serverResult });
  }

  let outcomes = new Map<string, Outcome>();
  let tallies = new Map<string, Tally>();
  const items = link ? boundItems(present.flatMap((p) => p.binds)) : [];
  // Collectibles are counted once for all of the member's servers, and only if a bind asks.
  const collectibles = link ? boundCollectibles(present.flatMap((p) => p.binds)) : new Map<string, number>();
  if (link && (items.length > 0 || collectibles.size > 0)) {
    const report = await readOwnership(deps, discordUserId, link.robloxUserId, items, collectibles, priority);
    outcomes = report.outcomes;
    tallies = report.tallies;
    // A rejected key is logged once by the key guard, not once per member.
    for (const failure of report.failures.filter((f) => f.kind !== 'auth')) {
      deps.log.warn({ discordUserId, robloxUserId: link.robloxUserId, failure: failure.kind, detail: failure.detail }, 'ownership check incomplete; affected roles are left as they are');
    }
  }
  result.unknown = [...outcomes.values(), ...tallies.values()].filter((o) => o.status === 'unknown').length;
  for (const outcome of outcomes.values()) deps.metrics?.checks.inc({ outcome: outcome.status });

  for (const { server, binds, roles, result: serverResult } of present) {
    const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
    const planning = performance.now();
    const plan = planRoles({ binds, linked: link !== undefined, outcomes, tallies, memberRoles: roles, roles: access });
    if (deps.stats) deps.stats.planMs += performance.now() - planning;
    serverResult.plan = plan;
    for (const decision of plan.decisions) {
      if (decision.blocked) serverResult.problems.push(`cannot ${decision.change} @${server.roleName(decision.roleId)}: ${decision.blocked}`);
    }
    await applyPlan(server, discordUserId, plan, link?.robloxUsername, serverResult);
    deps.metrics?.roleWrites.inc({ action: 'add' }, serverResult.added.length);
    deps.metrics?.roleWrites.inc({ action: 'remove' }, serverResult.removed.length);
    if (serverResult.problems.length > 0) deps.log.warn({ guildId: server.id, discordUserId, problems: serverResult.problems }, 'some role changes could not be made');
  }
  return { result, outcomes: joinAnswers(outcomes, tallies) };
}

/** With the member's own token when they signed in with Roblox (once more after a refused token), else the key. */
async function readOwnership(
  deps: SyncDeps,
  discordUserId: string,
  robloxUserId: string,
  items: ItemRef[],
  collectibles: ReadonlyMap<string, number>,
  priority: boolean | undefined,
): Promise<OwnershipReport> {
  if (!deps.grants) return checkOwnership(deps.roblox, robloxUserId, items, { priority, collectibles });
  for (let attempt = 0; ; attempt++) {
    const access = await deps.grants.access(discordUserId, robloxUserId);
    const report = await checkOwnership(deps.roblox, robloxUserId, items, access.kind === 'token' ? { priority, collectibles, token: access.token } : { priority, collectibles, privateServerReason: access.reason });
    if (access.kind === 'key' || attempt > 0 || !report.failures.some((f) => f.kind === 'auth')) return report;
    deps.grants.refused(discordUserId);
  }
}

/** Roles of a batch in each server, one gateway request per server; a server that fails is left out. */
async function readInBulk(deps: SyncDeps, ids: string[], guildIds: string[]): Promise<Map<string, Map<string, Set<string>>>> {
  const known = new Map<string, Map<string, Set<string>>>();
  for (const guildId of guildIds) {
    const server = deps.discord.server(guildId);
    if (!server) continue;
    try {
      known.set(guildId, await server.readMembers(ids));
    } catch (error) {
      // Its members are then read one by one, as on-demand syncs do.
      deps.log.warn({ err: error, guildId }, 'bulk member read failed; reading members one by one');
    }
  }
  return known;
}

function readMember(server: Server, discordUserId: string, known: ReadonlyMap<string, Set<string>> | undefined): Promise<MemberRead> | MemberRead {
  if (!known) return server.readMember(discordUserId);
  const roles = known.get(discordUserId);
  return roles ? { kind: 'member', roles } : { kind: 'absent' };
}

/** Writes, in one transaction, only what changed: outcomes, followed servers, check times. */
async function record(deps: SyncDeps, checked: Checked[], linked: Set<string>): Promise<void> {
  const { db } = deps;
  const now = new Date(deps.clock.now());
  const members = checked.map((c) => c.result.discordUserId);
  const accounts = checked.flatMap((c) => (c.result.robloxUserId && linked.has(c.result.discordUserId) ? [{ robloxUserId: c.result.robloxUserId, outcomes: c.outcomes }] : []));
  const [previous, followed] = await Promise.all([
    loadOutcomes(db, accounts.map((a) => a.robloxUserId)),
    db.$queryRaw<{ guildId: string; discordUserId: string; problem: string | null }[]>`
      SELECT "guildId", "discordUserId", "problem" FROM "MemberSync" WHERE ${among('discordUserId', members)}`,
  ]);
  const followedBy = new Map(followed.map((row) => [`${row.guildId}:${row.discordUserId}`, row]));

  const stopFollowing: { guildId: string; discordUserId: string }[] = [];
  const follow: { guildId: string; discordUserId: string; problem: string | null }[] = [];
  for (const { result } of checked) {
    const isLinked = linked.has(result.discordUserId);
    for (const server of result.servers) {
      const key = { guildId: server.guildId, discordUserId: result.discordUserId };
      const row = followedBy.get(`${server.guildId}:${result.discordUserId}`);
      // An unlinked member with nothing left to remove, or one who left, needs no following.
      if (!server.present || (!isLinked && server.problems.length === 0)) {
        if (row) stopFollowing.push(key);
        continue;
      }
      const problem = server.problems.join('; ') || null;
      if (!row || row.problem !== problem) follow.push({ ...key, problem });
    }
  }

  await db.$transaction(async (tx) => {
    await saveOutcomeChanges(tx, accounts, previous, now);
    if (stopFollowing.length > 0) await tx.memberSync.deleteMany({ where: { OR: stopFollowing } });
    const fresh = follow.filter((row) => !followedBy.has(`${row.guildId}:${row.discordUserId}`));
    if (fresh.length > 0) {
      // A first cycle follows every member in every server: one JSON parameter, as for outcomes.
      await tx.$executeRaw`
        INSERT INTO "MemberSync" ("guildId", "discordUserId", "problem", "since")
        SELECT value->>0, value->>1, value->>2, ${now} FROM json_each(${JSON.stringify(fresh.map((row) => [row.guildId, row.discordUserId, row.problem]))})`;
    }
    for (const row of follow.filter((r) => followedBy.has(`${r.guildId}:${r.discordUserId}`))) {
      await tx.memberSync.update({ where: { guildId_discordUserId: { guildId: row.guildId, discordUserId: row.discordUserId } }, data: { since: now, problem: row.problem } });
    }
    const checkedLinks = members.filter((id) => linked.has(id));
    if (checkedLinks.length > 0) await tx.$executeRaw`UPDATE "Link" SET "checkedAt" = ${now} WHERE ${among('discordUserId', checkedLinks)}`;
  });
}

async function applyPlan(server: Server, userId: string, plan: RolePlan, robloxName: string | undefined, result: ServerResult): Promise<void> {
  for (const decision of plan.decisions) {
    if (decision.blocked || decision.change === 'none') continue;
    const write = await server.setRole(userId, decision.roleId, decision.change, auditReason(decision, robloxName));
    if (write.ok) {
      (decision.change === 'add' ? result.added : result.removed).push(decision.roleId);
      continue;
    }
    result.problems.push(write.problem);
    if (write.stop) return;
  }
}

/** The audit-log line for one role change: who, and which bind decided it. Discord caps it at 512. */
export function auditReason(decision: RoleDecision, robloxName: string | undefined): string {
  const wanted = decision.change === 'add' ? 'owns' : 'not_owned';
  const deciding = decision.binds.filter((b) => b.outcome.status === wanted).map((b) => describeBind(b.bind)).join(', ');
  const text = !robloxName
    ? 'gatepass: no linked Roblox account'
    : `gatepass: Roblox ${robloxName} ${decision.change === 'add' ? 'has' : 'does not have'} ${deciding}`;
  return text.length > 512 ? `${text.slice(0, 511)}…` : text;
}
