// The unverified role's one decision for a member in one server: members with no linked account
// have it, linked members do not. Pure: the link, the member's roles and the bot's access in; the
// change out. The link is the one read inside the member's lock, so a linked member is never given
// the role and an unlinked one never loses it.

import type { RoleAccess } from './roleplan';

export interface UnverifiedInput {
  roleId: string;
  linked: boolean;
  memberRoles: ReadonlySet<string>;
  access: RoleAccess;
  /** A bind names the same role: the binds decide it, never two rules at once. */
  bound: boolean;
}

export interface UnverifiedDecision {
  roleId: string;
  change: 'add' | 'remove' | 'none';
  /** Set when a change is wanted but the bot cannot make it. */
  blocked?: string;
}

export function planUnverified(input: UnverifiedInput): UnverifiedDecision {
  const { roleId, linked, memberRoles, access, bound } = input;
  const has = memberRoles.has(roleId);
  const change = bound ? 'none' : !linked && !has ? 'add' : linked && has ? 'remove' : 'none';
  if (change === 'none' || access.ok || (change === 'remove' && access.removeOnly)) return { roleId, change };
  return { roleId, change, blocked: access.reason };
}
