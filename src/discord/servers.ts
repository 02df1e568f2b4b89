// The Discord side of a sync, over discord.js: read a member's roles and nickname, judge whether
// the bot can change a role or a nickname, and add or remove one role or set a nickname with an
// audit-log reason. Errors become values.

import { type Client, DiscordAPIError, Events, type Guild, type GuildMember, PermissionFlagsBits, RESTJSONErrorCodes } from 'discord.js';
import type { Approvals } from '../approvals';
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
  /** Up to 100 members in one gateway request; members not in the server are absent. */
  readMembers(userIds: readonly string[]): Promise<Map<string, MemberState>>;
  /** Why the bot cannot change nicknames here (no Manage Nicknames, or a refusal remembered for this member); undefined when it can try. */
  nicknameRefusal(userId: string): string | undefined;
  setNickname(userId: string, nick: string, reason: string): Promise<WriteResult>;
  /** One page of member ids in id order, after `after` (REST List Guild Members; needs the Server Members intent). */
  listMembers(after: string, limit: number): Promise<string[]>;
  /** Ids of the server's roles as the bot sees them now. */
  roleIds(): Set<string>;
}

export interface DiscordSide {
  /** Every server the bot is in, available or not. */
  serverIds(): string[];
  server(guildId: string): Server | undefined;
}

export function discordSide(client: Client, approvals: Approvals): DiscordSide {
  const refusals = refusalMemory(client);
  return {
    serverIds: () => [...client.guilds.cache.keys()],
    // An unavailable server (an outage) has no roles or members to go by: nothing is done there.
    server: (guildId) => {
      const guild = client.guilds.cache.get(guildId);
      return guild?.available ? serverOf(guild, refusals, approvals) : undefined;
    },
  };
}

/** Refused nickname writes are remembered per member, beside the roles. */
const nicknameKey = (userId: string) => `nick:${userId}`;

/**
 * Writes Discord refused with 403, remembered per server and role (or member's nickname). Discord bans an IP that sends
 * 10,000 refused requests in 10 minutes, so a refused role is not tried again until the server's
 * roles or the bot's own member change: the only things that could make it succeed.
 */
function refusalMemory(client: Client) {
  const byServer = new Map<string, Map<string, string>>();
  const forget = (guildId: string) => byServer.delete(guildId);
  client.on(Events.GuildRoleCreate, (role) => forget(role.guild.id));
  client.on(Events.GuildRoleUpdate, (_old, role) => forget(role.guild.id));
  client.on(Events.GuildRoleDelete, (role) => forget(role.guild.id));
  client.on(Events.GuildMemberUpdate, (_old, member) => (member.id === client.user?.id ? forget(member.guild.id) : byServer.get(member.guild.id)?.delete(nicknameKey(member.id))));
  client.on(Events.GuildUpdate, (_old, guild) => forget(guild.id));
  return {
    get: (guildId: string, roleId: string) => byServer.get(guildId)?.get(roleId),
    remember(guildId: string, roleId: string, reason: string) {
      const roles = byServer.get(guildId) ?? new Map<string, string>();
      roles.set(roleId, reason);
      byServer.set(guildId, roles);
    },
  };
}

type Refusals = ReturnType<typeof refusalMemory>;

function serverOf(guild: Guild, refusals: Refusals, approvals: Approvals): Server {
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
      return access.ok ? approvedAccess(guild, roleId, approvals.of(guild.id, roleId)) : access;
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
