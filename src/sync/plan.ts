// Step 4 of a re-check: the role plan for the member in one server, from its binds, the ownership
// outcomes, collectible tallies, group ranks and the roles the member holds there; what the bot cannot change becomes a problem.

import type { Outcome, Rank, Tally } from '../ownership';
import { planRoles, type RoleAccess, type RolePlan } from '../roleplan';
import type { PresentIn } from './presence';

export interface Answers {
  outcomes: ReadonlyMap<string, Outcome>;
  tallies: ReadonlyMap<string, Tally>;
  ranks: ReadonlyMap<string, Rank>;
}

export function planServer({ server, binds, roles, result }: PresentIn, linked: boolean, { outcomes, tallies, ranks }: Answers): RolePlan {
  const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
  const plan = planRoles({ binds, linked, outcomes, tallies, ranks, memberRoles: roles, roles: access });
  result.plan = plan;
  for (const decision of plan.decisions) {
    if (decision.blocked) result.problems.push(`cannot ${decision.change} @${server.roleName(decision.roleId)}: ${decision.blocked}`);
  }
  return plan;
}
