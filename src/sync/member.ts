// Re-checking one member: every server they share with the bot, one ownership check for all of
// those servers' items, then per server the role plan applied as role-by-role writes.

import { type Bind, boundItems, describeBind } from '../bindings';
import type { Clock } from '../clock';
import { bindsByServer } from '../database/binds';
import type { Database } from '../database/client';
import { saveOutcomes } from '../database/outcomes';
import type { Server, DiscordSide } from '../discord/servers';
import type { Logger } from '../log';
import { checkOwnership, type Outcome } from '../ownership';
import type { RobloxApi } from '../roblox/api';
import { type RoleAccess, type RoleDecision, type RolePlan, planRoles } from '../roleplan';

export interface SyncDeps {
  db: Database;
  roblox: RobloxApi;
  discord: DiscordSide;
  log: Logger;
  clock: Clock;
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
  /** Someone is waiting on this sync (a command, a join): its Roblox request jumps the queue. */
  priority?: boolean;
  /** Members' roles already read in bulk: server id → user id → roles; absent from a map = not a member. */
  members?: ReadonlyMap<string, ReadonlyMap<string, Set<string>>>;
}

export type SyncMember = (discordUserId: string, options?: SyncOptions) => Promise<MemberResult>;

/** Syncs of the same member never overlap: a second request waits for the first, then runs. */
export function createMemberSync(deps: SyncDeps): SyncMember {
  const inFlight = new Map<string, Promise<MemberResult>>();
  return (discordUserId, options = {}) => {
    const previous = inFlight.get(discordUserId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => syncMember(deps, discordUserId, options));
    inFlight.set(discordUserId, next);
    const forget = () => {
      if (inFlight.get(discordUserId) === next) inFlight.delete(discordUserId);
    };
    next.then(forget, forget);
    return next;
  };
}

async function syncMember(deps: SyncDeps, discordUserId: string, options: SyncOptions): Promise<MemberResult> {
  const { db, discord, log } = deps;
  const now = new Date(deps.clock.now());
  const link = await db.link.findUnique({ where: { discordUserId } });
  const result: MemberResult = { discordUserId, robloxUserId: link?.robloxUserId, servers: [], unknown: 0 };

  const present: { server: Server; binds: Bind[]; roles: Set<string>; result: ServerResult }[] = [];
  for (const [guildId, binds] of await bindsByServer(db, discord.serverIds())) {
    const server = discord.server(guildId);
    if (!server) continue;
    const serverResult: ServerResult = { guildId, serverName: server.name, present: true, added: [], removed: [], problems: [] };
    result.servers.push(serverResult);
    const known = options.members?.get(guildId);
    const roles = known?.get(discordUserId);
    const member = known ? (roles ? { kind: 'member' as const, roles } : { kind: 'absent' as const }) : await server.readMember(discordUserId);
    if (member.kind === 'absent') {
      serverResult.present = false;
      await db.memberSync.deleteMany({ where: { guildId, discordUserId } });
    } else if (member.kind === 'error') {
      serverResult.problems.push(`could not read the member: ${member.detail}`);
    } else {
      present.push({ server, binds, roles: member.roles, result: serverResult });
    }
  }

  let outcomes = new Map<string, Outcome>();
  if (link && present.length > 0) {
    const items = boundItems(present.flatMap((p) => p.binds));
    if (items.length > 0) {
      const report = await checkOwnership(deps.roblox, link.robloxUserId, items, options.priority);
      outcomes = report.outcomes;
      // A rejected key is logged once by the key guard, not once per member.
      for (const failure of report.failures.filter((f) => f.kind !== 'auth')) {
        log.warn({ discordUserId, robloxUserId: link.robloxUserId, failure: failure.kind, detail: failure.detail }, 'ownership check incomplete; affected roles are left as they are');
      }
      await saveOutcomes(db, link.robloxUserId, outcomes, now);
    }
  }
  result.unknown = [...outcomes.values()].filter((o) => o.status === 'unknown').length;

  for (const { server, binds, roles, result: serverResult } of present) {
    const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
    const plan = planRoles({ binds, linked: link !== null, outcomes, memberRoles: roles, roles: access });
    serverResult.plan = plan;
    for (const decision of plan.decisions) {
      if (decision.blocked) serverResult.problems.push(`cannot ${decision.change} @${server.roleName(decision.roleId)}: ${decision.blocked}`);
    }
    await applyPlan(server, discordUserId, plan, link?.robloxUsername, serverResult);
    if (serverResult.problems.length > 0) {
      log.warn({ guildId: server.id, discordUserId, problems: serverResult.problems }, 'some role changes could not be made');
    }
    if (!link && serverResult.problems.length === 0) {
      // Nothing bound is left on an unlinked member: this server no longer needs to follow them.
      await db.memberSync.deleteMany({ where: { guildId: server.id, discordUserId } });
    } else {
      const data = { syncedAt: now, problem: serverResult.problems.join('; ') || null };
      await db.memberSync.upsert({ where: { guildId_discordUserId: { guildId: server.id, discordUserId } }, create: { guildId: server.id, discordUserId, ...data }, update: data });
    }
  }

  if (link) await db.link.updateMany({ where: { discordUserId, robloxUserId: link.robloxUserId }, data: { checkedAt: now } });
  return result;
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
