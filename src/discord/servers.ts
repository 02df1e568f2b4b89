// The Discord side of a sync, over discord.js: read a member's roles and nickname, judge whether
// the bot can change a role or a nickname, and add or remove one role or set a nickname with an
// audit-log reason. Errors become values.

import { type Client, DiscordAPIError, Events, type Guild, type GuildMember, PermissionFlagsBits, RESTJSONErrorCodes, ShardClientUtil } from 'discord.js';
import type { Approvals } from '../approvals';
import type { Logger } from '../log';
import { describePermissions, elevatedIn } from '../permissions';
import type { RoleAccess } from '../roleplan';

/** A member as read: roles, and what nicknames need. */
export interface MemberState {
  roles: Set<string>;
  nick: string | null;
  /** The name Discord shows for the user (global display name, else username). */
  discordName: string;
  /** Why the bot may not change this member's nickname, whatever its permissions: the owner, or a member not below the bot. */
  aboveBot?: string;
}

export type MemberRead = ({ kind: 'member' } & MemberState) | { kind: 'absent' } | { kind: 'error'; detail: string };

export type WriteResult =
  | { ok: true }
  /** `stop`: nothing more can be written for this member in this server (the member left). */
  | { ok: false; problem: string; stop: boolean };

export interface Server {
  id: string;
  name: string;
  readMember(userId: string): Promise<MemberRead>;
  roleAccess(roleId: string): RoleAccess;
  roleName(roleId: string): string;
  setRole(userId: string, roleId: string, change: 'add' | 'remove', reason: string): Promise<WriteResult>;
  /** Up to 100 members in one gateway request (over REST, one by one, where another process holds the server); members not in the server are absent. */
  readMembers(userIds: readonly string[]): Promise<Map<string, MemberState>>;
  /** Why the bot cannot change nicknames here (no Manage Nicknames, or a refusal remembered for this member); undefined when it can try. */
  nicknameRefusal(userId: string): string | undefined;
  setNickname(userId: string, nick: string, reason: string): Promise<WriteResult>;
  /** One page of member ids in id order, after `after` (REST List Guild Members; needs the Server Members intent). */
  listMembers(after: string, limit: number): Promise<string[]>;
  /** Ids of the server's roles as the bot sees them now. */
  roleIds(): Set<string>;
}

export interface ServerLookup {
  /** The server, or undefined when the bot cannot act there now (left, unavailable, not loaded). */
  server(guildId: string): Server | undefined;
}

export interface DiscordSide extends ServerLookup {
  /** Every server this process holds (its shards' servers), available or not. */
  serverIds(): string[];
  /**
   * Whether this process's shards hold the server: only then do its events arrive here and does its
   * absence from `serverIds()` mean the bot left it. `server()` answers only for these.
   */
  holds(guildId: string): boolean;
  /**
   * For one batch or check: this process's servers, plus a fresh REST snapshot of each of `guildIds`
   * another process holds (the server, its roles, the bot's own member, the roles' approvals). Drop
   * it after the batch: a role that gained Administrator since must be seen by the next one. A server
   * whose snapshot cannot be loaded is absent from it, so nothing changes there.
   */
  prepare(guildIds: Iterable<string>): Promise<ServerLookup>;
}

export function discordSide(client: Client, approvals: Approvals, log: Logger): DiscordSide {
  const refusals = refusalMemory(client);
  const holds = (guildId: string) => {
    const { shards, shardCount = 1 } = client.options;
    // 'auto' (never used by gatepass) would put every shard in this process.
    return shardCount === 1 || !Array.isArray(shards) || shards.includes(ShardClientUtil.shardIdForGuildId(guildId, shardCount));
  };
  const side: DiscordSide = {
    serverIds: () => [...client.guilds.cache.keys()],
    holds,
    // An unavailable server (an outage) has no roles or members to go by: nothing is done there.
    server: (guildId) => {
      const guild = holds(guildId) ? client.guilds.cache.get(guildId) : undefined;
      return guild?.available ? serverOf(guild, { refusals, approved: approvals.of, restOnly: false }) : undefined;
    },
    async prepare(guildIds) {
      const foreign = [...new Set(guildIds)].filter((id) => !holds(id));
      if (foreign.length === 0) return side;
      const [snapshots, approved] = await Promise.all([Promise.all(foreign.map((id) => snapshot(client, id, log))), approvals.read(foreign)]);
      const servers = new Map(snapshots.flatMap((guild) => (guild ? [[guild.id, serverOf(guild, { refusals: refusalStore(), approved, restOnly: true })] as const] : [])));
      return { server: (guildId) => (holds(guildId) ? side.server(guildId) : servers.get(guildId)) };
    },
  };
  return side;
}

/** A server another process holds, read now over REST with the bot's own member; undefined when it cannot be read. */
async function snapshot(client: Client, guildId: string, log: Logger): Promise<Guild | undefined> {
  try {
    // Not cached: the client's cache is this process's servers, kept current by their events.
    const guild = await client.guilds.fetch({ guild: guildId, force: true, cache: false, withCounts: false });
    await guild.members.fetchMe({ force: true });
    return guild;
  } catch (error) {
    log.warn({ guildId, err: error }, 'could not read a server another shard holds; no role changes there in this check');
    return undefined;
  }
}

/** Refused nickname writes are remembered per member, beside the roles. */
const nicknameKey = (userId: string) => `nick:${userId}`;

/**
 * Writes Discord refused with 403, remembered per server and role (or member's nickname). Discord bans an IP that sends
 * 10,000 refused requests in 10 minutes, so a refused role is not tried again until the server's
 * roles or the bot's own member change: the only things that could make it succeed.
 */
function refusalMemory(client: Client) {
  const store = refusalStore();
  const { byServer } = store;
  const forget = (guildId: string) => byServer.delete(guildId);
  client.on(Events.GuildRoleCreate, (role) => forget(role.guild.id));
  client.on(Events.GuildRoleUpdate, (_old, role) => forget(role.guild.id));
  client.on(Events.GuildRoleDelete, (role) => forget(role.guild.id));
  client.on(Events.GuildMemberUpdate, (_old, member) => (member.id === client.user?.id ? forget(member.guild.id) : byServer.get(member.guild.id)?.delete(nicknameKey(member.id))));
  client.on(Events.GuildUpdate, (_old, guild) => forget(guild.id));
  return store;
}

/**
 * The remembered refusals alone. A snapshot of a server another process holds gets its own, for
 * its batch: this process hears none of the events that would make it forget.
 */
function refusalStore() {
  const byServer = new Map<string, Map<string, string>>();
  return {
    byServer,
    get: (guildId: string, roleId: string) => byServer.get(guildId)?.get(roleId),
    remember(guildId: string, roleId: string, reason: string) {
      const roles = byServer.get(guildId) ?? new Map<string, string>();
      roles.set(roleId, reason);
      byServer.set(guildId, roles);
    },
  };
}

type Refusals = ReturnType<typeof refusalStore>;

interface ServerDeps {
  refusals: Refusals;
  /** Elevated permissions approved for a bound role. */
  approved: Approvals['of'];
  /** A server another process holds: its members cannot be asked for over this process's gateway. */
  restOnly: boolean;
}

function serverOf(guild: Guild, { refusals, approved, restOnly }: ServerDeps): Server {
  return {
    id: guild.id,
    name: guild.name,
    async readMember(userId) {
      try {
        // Fresh from the API: a cached member may predate a role change made by hand.
        const member = await guild.members.fetch({ user: userId, force: true });
        return { kind: 'member', ...memberState(member) };
      } catch (error) {
        if (isApiError(error, RESTJSONErrorCodes.UnknownMember) || isApiError(error, RESTJSONErrorCodes.UnknownUser)) return { kind: 'absent' };
        return { kind: 'error', detail: describeError(error) };
      }
    },
    roleAccess(roleId) {
      const refused = refusals.get(guild.id, roleId);
      if (refused) return { ok: false, reason: `${refused}; the bot tries again once the server's roles or its own permissions change` };
      const access = roleAccess(guild, roleId);
      return access.ok ? approvedAccess(guild, roleId, approved(guild.id, roleId)) : access;
    },
    roleName: (roleId) => guild.roles.cache.get(roleId)?.name ?? `deleted role ${roleId}`,
    async setRole(userId, roleId, change, reason) {
      try {
        const options = { user: userId, role: roleId, reason };
        await (change === 'add' ? guild.members.addRole(options) : guild.members.removeRole(options));
        return { ok: true };
      } catch (error) {
        if (isApiError(error, RESTJSONErrorCodes.UnknownMember)) return { ok: false, problem: 'member left the server', stop: true };
        if (isApiError(error, RESTJSONErrorCodes.UnknownRole)) return { ok: false, problem: `role ${roleId} was deleted`, stop: false };
        if (error instanceof DiscordAPIError && error.status === 403) {
          const problem = `Discord refused to change @${guild.roles.cache.get(roleId)?.name ?? roleId} (${error.message})`;
          refusals.remember(guild.id, roleId, problem);
          return { ok: false, problem, stop: false };
        }
        return { ok: false, problem: describeError(error), stop: false };
      }
    },
    async readMembers(userIds) {
      // Gateway member requests go to the shard holding the server, which is another process.
      if (restOnly) return readOverRest(guild, userIds);
      // discord.js queues gateway sends under Discord's 120-per-minute limit: allow for the queue.
      const members = await guild.members.fetch({ user: [...userIds], time: 120_000 });
      return new Map(members.map((member) => [member.id, memberState(member)]));
    },
    nicknameRefusal(userId) {
      const refused = refusals.get(guild.id, nicknameKey(userId));
      if (refused) return `${refused}; the bot tries again once the member's or the server's roles change`;
      const me = guild.members.me;
      if (!me) return 'the bot cannot see its own member in this server yet';
      if (!me.permissions.has(PermissionFlagsBits.ManageNicknames)) return 'the bot lacks the Manage Nicknames permission (Server Settings → Roles → the bot\'s role)';
      return undefined;
    },
    async setNickname(userId, nick, reason) {
      try {
        await guild.members.edit(userId, { nick, reason });
        return { ok: true };
      } catch (error) {
        if (isApiError(error, RESTJSONErrorCodes.UnknownMember)) return { ok: false, problem: 'member left the server', stop: true };
        if (error instanceof DiscordAPIError && error.status === 403) {
          const problem = `Discord refused to change the nickname (${error.message})`;
          refusals.remember(guild.id, nicknameKey(userId), problem);
          return { ok: false, problem, stop: false };
        }
        return { ok: false, problem: describeError(error), stop: false };
      }
    },
    async listMembers(after, limit) {
      // Not cached: a page is read, written to the index and dropped, so memory stays one page.
      const members = await guild.members.list({ after, limit, cache: false });
      return [...members.keys()];
    },
    roleIds: () => new Set(guild.roles.cache.keys()),
  };
}

/** Members one by one over REST: as many requests as the per-member reads a failed bulk read falls back to. */
async function readOverRest(guild: Guild, userIds: readonly string[]): Promise<Map<string, MemberState>> {
  const read = await Promise.all(
    userIds.map((user) =>
      guild.members.fetch({ user, force: true, cache: false }).catch((error: unknown) => {
        if (isApiError(error, RESTJSONErrorCodes.UnknownMember)) return undefined;
        throw error;
      }),
    ),
  );
  return new Map(read.flatMap((member) => (member ? [[member.id, memberState(member)] as const] : [])));
}

function memberState(member: GuildMember): MemberState {
  const state: MemberState = { roles: new Set(member.roles.cache.keys()), nick: member.nickname, discordName: member.user.globalName ?? member.user.username };
  const me = member.guild.members.me;
  if (member.id === member.guild.ownerId) state.aboveBot = 'the server owner\'s nickname cannot be changed by a bot';
  else if (me && member.roles.highest.comparePositionTo(me.roles.highest) >= 0) state.aboveBot = `their highest role @${member.roles.highest.name} is not below the bot's highest role @${me.roles.highest.name}`;
  return state;
}

/** Can the bot give and take this role? Checked before any write: a refused write costs a request. */
export function roleAccess(guild: Guild, roleId: string): RoleAccess {
  const role = guild.roles.cache.get(roleId);
  if (!role) return { ok: false, reason: 'the role no longer exists' };
  if (role.id === guild.id) return { ok: false, reason: '@everyone cannot be given or taken' };
  if (role.managed) return { ok: false, reason: `@${role.name} is managed by an integration and cannot be assigned by bots` };
  const me = guild.members.me;
  if (!me) return { ok: false, reason: 'the bot cannot see its own member in this server yet' };
  if (!me.permissions.has(PermissionFlagsBits.ManageRoles)) {
    return { ok: false, reason: 'the bot lacks the Manage Roles permission (Server Settings → Roles → the bot\'s role)' };
  }
  if (role.comparePositionTo(me.roles.highest) >= 0) {
    return { ok: false, reason: `@${role.name} is not below the bot's highest role @${me.roles.highest.name}: drag the bot's role above it (Server Settings → Roles)` };
  }
  return { ok: true };
}

/**
 * A bound role that has gained elevated permissions since an owner or Administrator last bound it
 * is given to nobody more (src/permissions.ts says why), though members who have it keep it: the
 * elevation is the staff's doing, not the members'.
 */
function approvedAccess(guild: Guild, roleId: string, approved: bigint): RoleAccess {
  const role = guild.roles.cache.get(roleId)!;
  const gained = elevatedIn(role.permissions.bitfield) & ~approved;
  if (gained === 0n) return { ok: true };
  return {
    ok: false,
    removeOnly: true,
    reason: `@${role.name} has gained ${describePermissions(gained)} since it was bound, so the bot gives it to nobody more (members who have it keep it) until the permission is removed or the server owner or an Administrator runs \`/bind add\` for it again`,
  };
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof DiscordAPIError && error.code === code;
}

function describeError(error: unknown): string {
  if (error instanceof DiscordAPIError) return `Discord ${error.status} (${error.code}): ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
