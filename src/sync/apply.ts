// Step 5 of a re-check: only the plan's differences are written, one role at a time, each with an
// audit-log reason naming the bind (or the unverified-role setting) that decided it; then the
// nickname, if it differs.

import { describeBind } from '../bindings';
import type { Server } from '../discord/servers';
import type { RoleDecision, RolePlan } from '../roleplan';
import type { ServerResult } from './results';

interface Write {
  roleId: string;
  change: 'add' | 'remove' | 'none';
  blocked?: string;
  reason: () => string;
}

/** Applies the plan, the unverified role's decision and the nickname; false when the member turned out to have left the server. */
export async function applyPlan(server: Server, userId: string, plan: RolePlan, robloxName: string | undefined, result: ServerResult): Promise<boolean> {
  const writes: Write[] = plan.decisions.map((decision) => ({ ...decision, reason: () => auditReason(decision, robloxName) }));
  const unverified = result.unverified;
  if (unverified) writes.push({ ...unverified, reason: () => unverifiedReason(unverified.change, robloxName) });
  for (const decision of writes) {
    if (decision.blocked || decision.change === 'none') continue;
    const write = await server.setRole(userId, decision.roleId, decision.change, decision.reason());
    if (write.ok) {
      (decision.change === 'add' ? result.added : result.removed).push(decision.roleId);
      continue;
    }
    result.problems.push(write.problem);
    if (write.stop) return false;
  }
  const nickname = result.nickname;
  if (nickname?.change !== 'set') return true;
  const write = await server.setNickname(userId, nickname.nickname, `gatepass: nickname from the linked Roblox account ${robloxName ?? ''}`.trim());
  if (write.ok) result.renamed = nickname.nickname;
  else result.problems.push(write.problem);
  return write.ok || !write.stop;
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

function unverifiedReason(change: 'add' | 'remove' | 'none', robloxName: string | undefined): string {
  return change === 'add' ? 'gatepass: unverified role: no linked Roblox account' : `gatepass: unverified role: linked to Roblox ${robloxName ?? 'an account'}`;
}
