// Re-checking members, one way through: the link, read inside the member's lock → the member's roles
// in the servers they are in → one ownership read → a role plan per server → only the differences
// applied → recorded. Each step is its own module; this one batches members, holds the locks and
// hands each step's result to the next.

import { type Bind, boundCollectibles, boundGroups, boundItems } from '../bindings';
import type { Clock } from '../clock';
import { bindsOfServers } from '../database/binds';
import type { Database } from '../database/client';
import { currentLink, linksAmong } from '../database/links';
import { markAbsent, serversOf } from '../database/memberships';
import { createInFlight } from '../inflight';
import { syncSettings } from '../database/settings';
import type { DiscordSide, ServerLookup } from '../discord/servers';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { templateGroups } from '../nickname';
import type { Grants } from '../oauth/grants';
import { joinAnswers } from '../database/outcomes';
import type { Outcome, Rank, Tally } from '../ownership';
import type { RobloxApi } from '../roblox/api';
import { applyPlan } from './apply';
import { localMemberLock, type MemberLock } from './memberlock';
import { type GroupReads, groupReads } from './groupread';
import { readOwnership } from './ownershipread';
import { planServer, planServerNickname } from './plan';
import { type KnownRoles, readBatchRoles, rolesInServers, type ServerRules } from './presence';
import { type Checked, recordBatch } from './record';
import type { MemberResult } from './results';
import { type SyncStats, timeDatabase } from './stats';

export type { MemberResult, ServerResult } from './results';

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
  /** A member's lock; in-process when unset, in Redis in queue mode. */
  lock?: MemberLock;
}

export interface SyncOptions {
  /** Someone is waiting on this sync (a command, a join): its Roblox requests jump the queue. */
  priority?: boolean;
  /** Read the batch's roles with one request per server instead of a read per member and server. */
  readInBulk?: boolean;
  /** A server the member is known to be in (the command's, the join's), read even if the index lacks it. */
  alsoIn?: string;
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
  /**
   * Runs `work` holding the locks these members' checks hold: whatever changes a member's link runs
   * here (src/linkchanges.ts), so no check reads a link that changes before the check is done. Taken
   * in sorted order, so two changes never wait on each other; `work` must not take them again (nor
   * sync these members, which takes them): that would wait on itself.
   */
  exclusive<T>(discordUserIds: readonly string[], work: () => Promise<T>): Promise<T>;
}

/** The sync that checks members in this process. */
export interface LocalMemberSync extends MemberSync {
  /** Begins no more batches; settles once those under way are done. */
  stop(): Promise<void>;
}

/** Members checked at once within a batch; Roblox's budget, not this, sets the pace. */
const CONCURRENCY = 8;

export function createMemberSync(deps: SyncDeps): LocalMemberSync {
  // Checks of the same member never overlap; the lock covers one member's check, not a whole
  // batch, so a member someone is waiting on is never held up behind a hundred others.
  const locked = deps.lock ?? localMemberLock();
  // Every role write happens in a check: once they are done after stop(), the bot writes nothing more.
  const checks = createInFlight();
  const batch = async (ids: readonly string[], options: SyncOptions = {}) => (checks.stopping() ? [] : checks.track(syncBatch(deps, [...new Set(ids)], options, locked)));
  return {
    batch,
    stop: checks.stop,
    one: async (discordUserId, options) => {
      const [result] = await batch([discordUserId], options);
      if (!result) throw new Error('sync of one member was stopped before it began');
      for (const server of result.servers) {
        if (server.problems.length > 0) deps.log.warn({ guildId: server.guildId, discordUserId, problems: server.problems }, 'some role changes could not be made');
      }
      return result;
    },
    exclusive(discordUserIds, work) {
      const ids = [...new Set(discordUserIds)].sort();
      if (ids.some((id) => locked.busy?.(id))) deps.log.debug({ discordUserIds: ids }, 'a link change waits for a check of the member in flight');
      return ids.reduceRight((inner, id) => () => locked(id, inner), work)();
    },
  };
}

/** What a batch works with: the servers prepared for it, those other processes hold included. */
type BatchDeps = Omit<SyncDeps, 'discord'> & { discord: ServerLookup };

async function syncBatch(deps: SyncDeps, ids: string[], options: SyncOptions, locked: MemberLock): Promise<MemberResult[]> {
  const index = await timeDatabase(deps.stats, () => serversOf(deps.db, ids));
  const named = new Map(ids.map((id) => [id, [...new Set([...(index.get(id) ?? []), ...(options.alsoIn ? [options.alsoIn] : [])])]]));
  // Only the binds and settings of the batch's own servers: the work follows the members, not the bot's size.
  const guilds = [...new Set([...named.values()].flat())];
  const rules: ServerRules = await timeDatabase(deps.stats, async () => ({ binds: await bindsOfServers(deps.db, guilds), ...(await syncSettings(deps.db, guilds)) }));
  // Each member is read only in the servers the index names that have binds, an unverified role or nicknames.
  const serversFor = new Map([...named].map(([id, guildIds]) => [id, guildIds.filter((g) => rules.binds.has(g) || rules.unverified.has(g) || rules.nicknames.has(g))]));
  // A member's servers may be held by other shards: those are read over REST, for this batch only.
  const batchDeps: BatchDeps = { ...deps, discord: await deps.discord.prepare(new Set([...serversFor.values()].flat())) };
  const known: KnownRoles = options.readInBulk ? await readBatchRoles(batchDeps, membersByServer(serversFor)) : new Map();
  // Group ranks are read for fifty members at a time: the accounts of those whose servers bind groups.
  const withGroups = ids.filter((id) => serversFor.get(id)?.some((g) => boundGroups(rules.binds.get(g) ?? []).size > 0 || templateGroups(rules.nicknames.get(g)?.template).size > 0));
  const groups = groupReads(deps.roblox, [...(await timeDatabase(deps.stats, () => linksAmong(deps.db, withGroups))).values()], options.priority);

  const checked: Checked[] = [];
  // The first member whose check fails (their lock could not be taken: Redis away) ends the batch:
  // no further member is begun, those in hand finish and are recorded, and the error goes up.
  let failed: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < ids.length && !failed && !options.stopping?.()) {
      const id = ids[next++]!;
      const indexed = new Set(index.get(id) ?? []);
      try {
        const done = await locked(id, () => checkMember(batchDeps, id, serversFor.get(id) ?? [], indexed, rules, known, groups, options.priority));
        checked.push(done);
        options.onChecked?.(done.result);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  await timeDatabase(deps.stats, () => recordBatch(deps.db, checked, new Date(deps.clock.now())));
  if (failed) throw failed.error;
  return checked.map((c) => c.result);
}

async function checkMember(
  deps: BatchDeps,
  discordUserId: string,
  guildIds: readonly string[],
  indexed: ReadonlySet<string>,
  rules: ServerRules,
  known: KnownRoles,
  groups: GroupReads,
  priority: boolean | undefined,
): Promise<Checked> {
  // Inside the lock: an /unlink or a move of the account that happened while the batch waited is seen.
  const link = await timeDatabase(deps.stats, () => currentLink(deps.db, discordUserId));
  const { present, servers } = await rolesInServers(deps, discordUserId, guildIds, rules, known, indexed);
  const result: MemberResult = { discordUserId, robloxUserId: link?.robloxUserId, servers, unknown: 0 };

  let outcomes = new Map<string, Outcome>();
  let tallies = new Map<string, Tally>();
  let ranks = new Map<string, Rank>();
  const binds = present.flatMap((p) => p.binds);
  const items = link ? boundItems(binds) : [];
  // Collectibles are counted once for all of the member's servers, and only if a bind asks; group
  // ranks likewise, in the same check, from the batch's shared membership reads.
  const collectibles = link ? boundCollectibles(binds) : new Map<string, number>();
  // A nickname template's {group-rank:<id>} is read like a bound group.
  const groupIds = link ? new Set([...boundGroups(binds), ...present.flatMap((p) => [...templateGroups(p.nickname?.template)])]) : new Set<string>();
  if (link && (items.length > 0 || collectibles.size > 0 || groupIds.size > 0)) {
    const [report, groupReport] = await Promise.all([
      items.length > 0 || collectibles.size > 0 ? readOwnership(deps.roblox, deps.grants, discordUserId, link.robloxUserId, items, collectibles, priority) : undefined,
      groupIds.size > 0 ? groups.ranks(link.robloxUserId, groupIds) : undefined,
    ]);
    outcomes = report?.outcomes ?? outcomes;
    tallies = report?.tallies ?? tallies;
    ranks = groupReport?.ranks ?? ranks;
    // A rejected key is logged once by the key guard, not once per member.
    for (const failure of [...(report?.failures ?? []), ...(groupReport?.failures ?? [])].filter((f) => f.kind !== 'auth')) {
      deps.log.warn({ discordUserId, robloxUserId: link.robloxUserId, failure: failure.kind, detail: failure.detail }, 'ownership check incomplete; affected roles are left as they are');
    }
  }
  result.unknown = [...outcomes.values(), ...tallies.values(), ...ranks.values()].filter((o) => o.status === 'unknown').length;
  for (const outcome of outcomes.values()) deps.metrics?.checks.inc({ outcome: outcome.status });

  for (const member of present) {
    const planning = performance.now();
    const plan = planServer(member, link !== undefined, { outcomes, tallies, ranks });
    planServerNickname(member, discordUserId, link, ranks);
    if (deps.stats) deps.stats.planMs += performance.now() - planning;
    const stayed = await applyPlan(member.server, discordUserId, plan, link?.robloxUsername, member.result);
    if (!stayed) {
      member.result.present = false;
      await markAbsent(deps.db, member.server.id, [discordUserId]);
    }
    deps.metrics?.roleWrites.inc({ action: 'add' }, member.result.added.length);
    deps.metrics?.roleWrites.inc({ action: 'remove' }, member.result.removed.length);
  }
  return { result, outcomes: joinAnswers(outcomes, tallies, ranks) };
}

/** The batch's members per server, as the index places them. */
function membersByServer(serversFor: ReadonlyMap<string, string[]>): Map<string, string[]> {
  const byServer = new Map<string, string[]>();
  for (const [id, guildIds] of serversFor) {
    for (const guildId of guildIds) {
      const list = byServer.get(guildId);
      if (list) list.push(id);
      else byServer.set(guildId, [id]);
    }
  }
  return byServer;
}
