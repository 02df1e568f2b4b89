// Turning sync results and stored state into the text members and moderators read.

import { type Bind, describeBind } from './bindings';
import type { Outcome } from './ownership';
import type { RoleDecision, RolePlan } from './roleplan';
import type { ServerResult } from './sync/members';

export const roleMention = (roleId: string) => `<@&${roleId}>`;
export const userMention = (userId: string) => `<@${userId}>`;
export const timestamp = (date: Date) => `<t:${Math.floor(date.getTime() / 1000)}:R>`;

const MESSAGE_LIMIT = 2000;

/** Joins lines into one message within Discord's 2,000 characters, saying what was cut. */
export function fitMessage(lines: string[]): string {
  const kept: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const tail = `\n…and ${lines.length - index} more lines`;
    if (length + line.length + 1 + tail.length > MESSAGE_LIMIT) {
      kept.push(tail.trim());
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join('\n');
}

export function describeOutcome(bind: Bind, outcome: Outcome): string {
  if (bind.kind === 'verified') return outcome.status === 'owns' ? 'linked' : 'not linked';
  if (outcome.status === 'owns') return 'owns';
  if (outcome.status === 'not_owned') return 'does not own';
  return `unknown: ${outcome.reason}`;
}

/** Why each bound role is, or is not, held: one line per role that matters to the member. */
export function explainDecision(decision: RoleDecision): string {
  const binds = decision.binds.map((b) => `${describeBind(b.bind)} (${describeOutcome(b.bind, b.outcome)})`).join(', ');
  const role = roleMention(decision.roleId);
  if (decision.blocked) return `${role}: should be ${decision.change === 'add' ? 'given' : 'removed'} but ${decision.blocked}`;
  if (decision.verdict === 'earned') return `${role}: yes, ${binds}`;
  if (decision.verdict === 'not_earned') return `${role}: no, ${binds}`;
  return `${role}: kept as it is (${decision.has ? 'held' : 'not held'}) until Roblox answers: ${binds}`;
}

/** The reply after a sync of the member in this server. */
export function summarizeServer(result: ServerResult | undefined): string[] {
  if (!result) return ['This server has no binds yet, so there are no roles to give.'];
  if (!result.present) return ['You are not a member of this server any more.'];
  const lines: string[] = [];
  if (result.added.length > 0) lines.push(`Roles given: ${result.added.map(roleMention).join(', ')}`);
  if (result.removed.length > 0) lines.push(`Roles removed: ${result.removed.map(roleMention).join(', ')}`);
  if (result.added.length === 0 && result.removed.length === 0) lines.push('No role changes.');
  const unchanged = result.plan?.decisions.filter((d) => !result.added.includes(d.roleId) && !result.removed.includes(d.roleId)) ?? [];
  if (unchanged.length > 0) lines.push('', 'Why:', ...unchanged.map((d) => `• ${explainDecision(d)}`));
  if (result.problems.length > 0) lines.push('', 'Problems (a moderator can fix these):', ...result.problems.map((p) => `• ${p}`));
  return lines;
}

export function describePlanChanges(plan: RolePlan): string {
  const parts = [...plan.add.map((r) => `give ${roleMention(r)}`), ...plan.remove.map((r) => `remove ${roleMention(r)}`)];
  return parts.length > 0 ? parts.join(', ') : 'no changes';
}

/** The log channel's line for a new link. */
export function describeLink(discordUserId: string, robloxName: string, robloxUserId: string, proof: string, previousHolder?: string): string {
  const moved = previousHolder ? ` (the account moved from ${userMention(previousHolder)})` : '';
  return `🔗 ${userMention(discordUserId)} linked Roblox **${robloxName}** (id ${robloxUserId}) with ${proof}${moved}.`;
}
