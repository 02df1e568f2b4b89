// Step 4 of a re-check: the role plan for the member in one server, from its binds, the ownership
// outcomes, collectible tallies, group ranks and the roles the member holds there, and the
// unverified role's decision from the link, and the nickname's; what the bot cannot change becomes a problem.

import type { LinkedAccount } from '../database/links';
import { type NicknameDecision, parseTemplate, planNickname } from '../nickname';
import type { Outcome, Rank, Tally } from '../ownership';
import { planRoles, type RoleAccess, type RolePlan } from '../roleplan';
import { planUnverified, type UnverifiedDecision } from '../unverifiedplan';
import type { PresentIn } from './presence';

export interface Answers {
  outcomes: ReadonlyMap<string, Outcome>;
  tallies: ReadonlyMap<string, Tally>;
  ranks: ReadonlyMap<string, Rank>;
}

export function planServer({ server, binds, unverifiedRoleId, roles, result }: PresentIn, linked: boolean, { outcomes, tallies, ranks }: Answers): RolePlan {
  const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
  const plan = planRoles({ binds, linked, outcomes, tallies, ranks, memberRoles: roles, roles: access });
  result.plan = plan;
  for (const decision of plan.decisions) {
    if (decision.blocked) result.problems.push(`cannot ${decision.change} @${server.roleName(decision.roleId)}: ${decision.blocked}`);
  }
  if (unverifiedRoleId) {
    const bound = binds.some((b) => b.roleId === unverifiedRoleId);
    const unverified: UnverifiedDecision = planUnverified({ roleId: unverifiedRoleId, linked, memberRoles: roles, access: server.roleAccess(unverifiedRoleId), bound });
    result.unverified = unverified;
    if (unverified.blocked) result.problems.push(`cannot ${unverified.change} the unverified role @${server.roleName(unverifiedRoleId)}: ${unverified.blocked}`);
  }
  return plan;
}

/** The nickname decision in a server with a nickname template; undefined elsewhere. */
export function planServerNickname({ server, nickname, state, result }: PresentIn, discordUserId: string, link: LinkedAccount | undefined, ranks: ReadonlyMap<string, Rank>): NicknameDecision | undefined {
  if (!nickname) return undefined;
  const parsed = parseTemplate(nickname.template);
  if (!parsed.ok) {
    result.problems.push(`the nickname template cannot be used: ${parsed.error}`);
    return undefined;
  }
  const facts = link && {
    robloxName: link.robloxUsername,
    displayName: link.robloxDisplayName ?? link.robloxUsername,
    robloxId: link.robloxUserId,
    discordName: state.discordName,
    // The rank read in this check; nothing while it is unknown.
    groupRank: (groupId: string) => {
      const rank = ranks.get(groupId);
      return rank?.status === 'ranked' ? String(rank.rank) : undefined;
    },
  };
  const refusal = state.aboveBot ? undefined : server.nicknameRefusal(discordUserId);
  const bypass = nickname.bypassRoleId !== undefined && state.roles.has(nickname.bypassRoleId);
  const decision = planNickname({ parts: parsed.parts, facts, current: state.nick, untouchable: state.aboveBot ?? refusal, bypass });
  result.nickname = decision;
  if (refusal && decision.change === 'none' && decision.reason === refusal) result.problems.push(`cannot set the nickname: ${refusal}`);
  return decision;
}
