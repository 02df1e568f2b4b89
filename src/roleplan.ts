// The one decision of the product: which bound roles a member should gain or lose in one server.
// Pure: binds, ownership outcomes and the member's current roles in; the plan out.

import { type Bind, itemKey } from './bindings';
import type { Outcome, Rank, Tally } from './ownership';
import { type Evaluated, evaluate, type Facts, unknownReasons } from './rules/evaluate';

/** Whether the bot can change a role, as seen in the server right now; `removeOnly`: it may take the role, not give it. */
export type RoleAccess = { ok: true } | { ok: false; reason: string; removeOnly?: true };

export interface PlanInput {
  /** The server's binds. Roles that no bind names are never part of the plan. */
  binds: readonly Bind[];
  /** Whether the member has a linked Roblox account. */
  linked: boolean;
  /** Ownership outcomes by item key; an item absent here counts as unknown. */
  outcomes: ReadonlyMap<string, Outcome>;
  /** Collectible tallies by asset-types key; a set absent here counts as unknown. */
  tallies?: ReadonlyMap<string, Tally>;
  /** The member's highest rank by group id; a group absent here counts as unknown. */
  ranks?: ReadonlyMap<string, Rank>;
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
  /** Each bind's answer; collectible, rule and group binds also carry how each part of the rule answered. */
  binds: { bind: Bind; outcome: Outcome; evaluated?: Evaluated }[];
}

export interface RolePlan {
  add: string[];
  remove: string[];
  decisions: RoleDecision[];
}

const NOT_CHECKED = { status: 'unknown', reason: 'not checked yet' } as const;

export function planRoles(input: PlanInput): RolePlan {
  const plan: RolePlan = { add: [], remove: [], decisions: [] };
  const facts = factsOf(input);
  for (const [roleId, binds] of groupByRole(input.binds)) {
    const results = binds.map((bind) => judge(bind, input.linked, facts));
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

function factsOf(input: PlanInput): Facts {
  return {
    linked: input.linked,
    item: (key) => input.outcomes.get(key) ?? NOT_CHECKED,
    collectibles: (key) => input.tallies?.get(key) ?? NOT_CHECKED,
    group: (groupId) => input.ranks?.get(groupId) ?? NOT_CHECKED,
  };
}

/** One bind's answer: an item's outcome, or a collectible, rule or group bind's rule evaluated in three values. */
function judge(bind: Bind, linked: boolean, facts: Facts): RoleDecision['binds'][number] {
  // Without a linked account there is no inventory to ask, and every bind is about one: none holds.
  if (!linked) return { bind, outcome: { status: 'not_owned' } };
  if (bind.kind === 'verified') return { bind, outcome: { status: 'owns' } };
  if (bind.kind === 'collectible' || bind.kind === 'rule' || bind.kind === 'group') {
    const evaluated = evaluate(bind.rule, facts);
    const outcome: Outcome =
      evaluated.truth === 'true' ? { status: 'owns' } : evaluated.truth === 'false' ? { status: 'not_owned' } : { status: 'unknown', reason: unknownReasons(evaluated).join('; ') };
    return { bind, outcome, evaluated };
  }
  return { bind, outcome: facts.item(itemKey(bind)) };
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
