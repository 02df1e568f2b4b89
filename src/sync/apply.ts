// Step 5 of a re-check: only the plan's differences are written, one role at a time, each with an
// audit-log reason naming the bind that decided it.

import { describeBind } from '../bindings';
import type { Server } from '../discord/servers';
import type { RoleDecision, RolePlan } from '../roleplan';
import type { ServerResult } from './results';

/** Applies the plan; false when the member turned out to have left the server. */
export async function applyPlan(server: Server, userId: string, plan: RolePlan, robloxName: string | undefined, result: ServerResult): Promise<boolean> {
  for (const decision of plan.decisions) {
    if (decision.blocked || decision.change === 'none') continue;
    const write = await server.setRole(userId, decision.roleId, decision.change, auditReason(decision, robloxName));
    if (write.ok) {
      (decision.change === 'add' ? result.added : result.removed).push(decision.roleId);
      continue;
    }
    result.problems.push(write.problem);
    if (write.stop) return false;
  }
  return true;
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
