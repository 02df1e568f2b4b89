// Who may do what through the bot, decided in this one module on a member's server-wide
// permissions: owner, Administrator, the union of their roles'. Never on a channel's: an
// interaction's `memberPermissions` include the channel's overwrites, and an overwrite can grant
// Manage Roles ("Manage Permissions") in one channel to someone who has it nowhere else.
// The bot must never let anyone do through it what Discord would not let them do by hand.

import { type GuildMember, PermissionFlagsBits as P, type Role } from 'discord.js';

/**
 * Permissions that act on other members, on the server itself, or on everyone at once. A bind
 * gives its role to whoever buys or earns an item, so a role carrying any of these would sell
 * staff powers: only the owner or an Administrator (who hold them all anyway) may bind such a
 * role, and the bot stops giving one that gains any of them after it was bound.
 */
const ELEVATED: readonly [bigint, string][] = [
  [P.Administrator, 'Administrator'],
  [P.ManageGuild, 'Manage Server'],
  [P.ManageRoles, 'Manage Roles'],
  [P.ManageChannels, 'Manage Channels'],
  [P.ManageWebhooks, 'Manage Webhooks'], // post as anyone
  [P.KickMembers, 'Kick Members'],
  [P.BanMembers, 'Ban Members'],
  [P.ModerateMembers, 'Timeout Members'],
  [P.ManageNicknames, 'Manage Nicknames'],
  [P.MuteMembers, 'Mute Members'],
  [P.DeafenMembers, 'Deafen Members'],
  [P.MoveMembers, 'Move Members'],
  [P.ManageMessages, 'Manage Messages'], // delete anyone's messages
  [P.ManageThreads, 'Manage Threads'],
  [P.ManageEvents, 'Manage Events'],
  [P.ManageGuildExpressions, 'Manage Expressions'],
  [P.MentionEveryone, 'Mention @everyone'],
  [P.ViewAuditLog, 'View Audit Log'], // what the staff did, and to whom
];

const NAMES = new Map<bigint, string>(ELEVATED);

const permissionName = (flag: bigint): string => NAMES.get(flag) ?? `permission ${flag}`;

/** The elevated permissions in a bitfield, as one number. */
export function elevatedIn(permissions: bigint): bigint {
  return ELEVATED.reduce((bits, [flag]) => bits | (permissions & flag), 0n);
}

/** The names of the permissions set in `bits`, for messages. */
export function describePermissions(bits: bigint): string {
  return ELEVATED.filter(([flag]) => bits & flag).map(([, name]) => name).join(', ');
}

/** Who may run a command, declared beside its `default_member_permissions` and enforced by the router. */
export interface CommandPermission {
  /** A server-wide permission flag, e.g. PermissionFlagsBits.ManageRoles. */
  needs: bigint;
  /** Needed only when this user option names someone other than the invoker (`/update member:`). */
  forOption?: string;
}

/**
 * Why `member` may not run the command, or undefined when they may. `default_member_permissions`
 * only sets what Discord shows by default, which each server can change; this is what holds.
 */
export function commandRefusal(member: GuildMember, command: string, permission: CommandPermission | undefined, optionUser: (name: string) => string | undefined): string | undefined {
  // Server-wide: the owner has every flag, and Administrator implies each one.
  if (!permission || member.permissions.has(permission.needs)) return undefined;
  if (permission.forOption === undefined) return `\`/${command}\` needs the ${permissionName(permission.needs)} permission.`;
  const other = optionUser(permission.forOption);
  if (other === undefined || other === member.id) return undefined;
  return `\`/${command} ${permission.forOption}:\` on someone else needs the ${permissionName(permission.needs)} permission.`;
}

/**
 * Why `member` could not give or take `role` by hand in Discord, and so may not bind it or remove
 * its bind; undefined when they could. Binding a role with elevated permissions also needs the owner
 * or an Administrator. Every missing condition is named, so the reply says exactly what is lacking.
 */
export function roleRefusal(member: GuildMember, role: Role, action: 'bind' | 'unbind'): string | undefined {
  if (isOwnerOrAdministrator(member)) return undefined;
  const elevated = elevatedIn(role.permissions.bitfield);
  if (action === 'bind' && elevated !== 0n) {
    return `@${role.name} carries ${describePermissions(elevated)}: only the server owner or an Administrator can bind a role with staff powers. Nothing was changed.`;
  }
  const missing: string[] = [];
  if (!member.permissions.has(P.ManageRoles, false)) missing.push('you do not have the Manage Roles permission');
  const highest = member.roles.highest;
  if (role.comparePositionTo(highest) >= 0) missing.push(`@${role.name} is not below your highest role @${highest.name}`);
  if (missing.length === 0) return undefined;
  return `You could not ${action === 'bind' ? 'give' : 'take'} @${role.name} by hand, so you cannot ${action === 'bind' ? 'bind it' : 'remove its bind'}: ${missing.join(', and ')}. Nothing was changed.`;
}

function isOwnerOrAdministrator(member: GuildMember): boolean {
  return member.id === member.guild.ownerId || member.permissions.has(P.Administrator, false);
}
