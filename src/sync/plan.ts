// Step 4 of a re-check: the role plan for the member in one server, from its binds, the ownership
// outcomes, collectible tallies and the roles the member holds there, and the unverified role's
// decision from the link; what the bot cannot change becomes a problem.

import type { Outcome, Tally } from '../ownership';
import { planRoles, type RoleAccess, type RolePlan } from '../roleplan';
import { planUnverified, type UnverifiedDecision } from '../unverifiedplan';
import type { PresentIn } from './presence';

export function planServer({ server, binds, unverifiedRoleId, roles, result }: PresentIn, linked: boolean, outcomes: ReadonlyMap<string, Outcome>, tallies: ReadonlyMap<string, Tally>): RolePlan {
  const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
  const plan = planRoles({ binds, linked, outcomes, tallies, memberRoles: roles, roles: access });
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
