// The one decision of the product: which bound roles a member should gain or lose in one server.
// Pure: binds, ownership outcomes and the member's current roles in; the plan out.

import { type Bind, itemKey } from './bindings';
import type { Outcome } from './ownership';

/** Whether the bot can change a role, as seen in the server right now; `removeOnly`: it may take the role, not give it. */
export type RoleAccess = { ok: true } | { ok: false; reason: string; removeOnly?: true };

export interface PlanInput {
  /** The server's binds. Roles that no bind names are never part of the plan. */
  binds: readonly Bind[];
  /** Whether the member has a linked Roblox account. */
  linked: boolean;
  /** Ownership outcomes by item key; an item absent here counts as unknown. */
  outcomes: ReadonlyMap<string, Outcome>;
  memberRoles: ReadonlySet<string>;
  /** Access per bound role id; a role absent here no longer exists. */
  roles: ReadonlyMap<string, RoleAccess>;
}

export type Verdict = 'earned' | 'not_earned' | 'undetermined';

export interface RoleDecision {
  roleId: string;
  verdict: Verdict;
  has: boolean;
  change: 'add' | 'remove' | 'none';
  /** Set when a change is wanted but the bot cannot make it. */
  blocked?: string;
  binds: { bind: Bind; outcome: Outcome }[];
}

export interface RolePlan {
  add: string[];
  remove: string[];
  decisions: RoleDecision[];
}

const NOT_CHECKED: Outcome = { status: 'unknown', reason: 'not checked yet' };

export function planRoles(input: PlanInput): RolePlan {
  const plan: RolePlan = { add: [], remove: [], decisions: [] };
  for (const [roleId, binds] of groupByRole(input.binds)) {
    const results = binds.map((bind) => ({ bind, outcome: outcomeOf(bind, input) }));
    // Any satisfied bind earns the role; only binds that are all definitely unsatisfied lose it.
    const verdict: Verdict = results.some((r) => r.outcome.status === 'owns')
      ? 'earned'
      : results.every((r) => r.outcome.status === 'not_owned')
        ? 'not_earned'
        : 'undetermined';
    const has = input.memberRoles.has(roleId);
    const change = verdict === 'earned' && !has ? 'add' : verdict === 'not_earned' && has ? 'remove' : 'none';
    const decision: RoleDecision = { roleId, verdict, has, change, binds: results };
    if (change !== 'none') {
      const access = input.roles.get(roleId) ?? { ok: false, reason: 'the role no longer exists' };
      if (access.ok || (change === 'remove' && access.removeOnly)) plan[change].push(roleId);
      else decision.blocked = access.reason;
    }
    plan.decisions.push(decision);
  }
  return plan;
}

function outcomeOf(bind: Bind, input: PlanInput): Outcome {
  if (bind.kind === 'verified') return { status: input.linked ? 'owns' : 'not_owned' };
  // Without a linked account there is no inventory that could hold the item.
  if (!input.linked) return { status: 'not_owned' };
  return input.outcomes.get(itemKey(bind)) ?? NOT_CHECKED;
}

function groupByRole(binds: readonly Bind[]): Map<string, Bind[]> {
  const byRole = new Map<string, Bind[]>();
  for (const bind of binds) {
    const list = byRole.get(bind.roleId);
    if (list) list.push(bind);
    else byRole.set(bind.roleId, [bind]);
  }
  return byRole;
}
