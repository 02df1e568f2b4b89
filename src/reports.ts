// Turning sync results and stored state into the text members and moderators read.

import { EmbedBuilder } from 'discord.js';
import { type Bind, describeBind } from './bindings';
import type { Outcome, Tally } from './ownership';
import type { RoleDecision, RolePlan } from './roleplan';
import type { Evaluated, Truth } from './rules/evaluate';
import { formatAtom } from './rules/syntax';
import type { ServerResult } from './sync/members';

export const roleMention = (roleId: string) => `<@&${roleId}>`;
export const userMention = (userId: string) => `<@${userId}>`;
export const timestamp = (date: Date) => `<t:${Math.floor(date.getTime() / 1000)}:R>`;

const MESSAGE_LIMIT = 2000;

/** Joins lines into one message within Discord's 2,000 characters, saying what was cut. */
export function fitMessage(lines: string[], limit = MESSAGE_LIMIT): string {
  const kept: string[] = [];
  let length = 0;
  for (const [index, line] of lines.entries()) {
    const tail = `\n…and ${lines.length - index} more lines`;
    if (length + line.length + 1 + tail.length > limit) {
      kept.push(tail.trim());
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join('\n');
}

export function describeOutcome(bind: Bind, outcome: Outcome, evaluated?: Evaluated): string {
  if (bind.kind === 'verified') return outcome.status === 'owns' ? 'linked' : 'not linked';
  // A group bind is one atom: its answer is the rank seen ("rank 100", "not in the group") or why it is unknown.
  if (bind.kind === 'group' && evaluated && 'detail' in evaluated) return outcome.status === 'unknown' ? `unknown: ${evaluated.detail}` : evaluated.detail;
  const rule = bind.kind === 'collectible' || bind.kind === 'rule';
  if (outcome.status === 'owns') return rule ? 'holds' : 'owns';
  if (outcome.status === 'not_owned') return rule ? 'does not hold' : 'does not own';
  return `unknown: ${outcome.reason}`;
}

const ICONS = { owns: '✅', not_owned: '❌', unknown: '❔' } as const;

/** One bind and its answer: ✅ owns, ❌ does not, ❔ unknown with the reason. */
export function bindLine(bind: Bind, outcome: Outcome, since?: Date, evaluated?: Evaluated): string {
  return `${ICONS[outcome.status]} ${roleMention(bind.roleId)} ← ${describeBind(bind)}: ${describeOutcome(bind, outcome, evaluated)}${since ? ` (since ${timestamp(since)})` : ''}`;
}

/** A bind's line, and under it its rule's tree for collectible and rule binds (a group bind's one atom is in its line). */
export function bindLines({ bind, outcome, evaluated }: { bind: Bind; outcome: Outcome; evaluated?: Evaluated }, since?: Date): string[] {
  return [bindLine(bind, outcome, since, evaluated), ...(evaluated && bind.kind !== 'group' ? ruleTree(evaluated) : [])];
}

const TRUTH_ICONS: Record<Truth, string> = { true: '✅', false: '❌', unknown: '❔' };

/** A rule's parts, one line each and indented under their operator: ✅ / ❌ / ❔ and what was found. */
export function ruleTree(evaluated: Evaluated, depth = 1): string[] {
  const line = (text: string) => `${'\u2003'.repeat(depth)}${TRUTH_ICONS[evaluated.truth]} ${text}`;
  if ('detail' in evaluated) return [line(`\`${formatAtom(evaluated.rule.atom)}\`: ${evaluated.detail}`)];
  const { rule } = evaluated;
  const label = rule.op === 'atleast' ? `at least ${rule.n} of` : rule.op === 'not' ? 'not' : rule.op === 'and' ? 'all of' : 'any of';
  return [line(label), ...evaluated.parts.flatMap((part) => ruleTree(part, depth + 1))];
}

/** A member's collectible counts, as last read: "any type: 12; FACE,HAT: at least 3". */
export function describeTallies(tallies: ReadonlyMap<string, Tally>): string {
  return [...tallies]
    .map(([key, tally]) => `${key === '*' ? 'any type' : key}: ${tally.status === 'unknown' ? `unknown (${tally.reason})` : `${tally.complete ? '' : 'at least '}${tally.count}`}`)
    .join('; ');
}

/** A reply as an embed: Discord allows 4,096 characters in its description. */
export function replyEmbed(title: string, lines: string[], tone: 'good' | 'neutral' | 'warning' = 'neutral'): { content: string; embeds: EmbedBuilder[] } {
  const color = { good: 0x2e_cc_71, neutral: 0x58_65_f2, warning: 0xf1_c4_0f }[tone];
  return { content: '', embeds: [new EmbedBuilder().setTitle(title.slice(0, 256)).setDescription(fitMessage(lines, 4_096)).setColor(color)] };
}

/** The reply after a sync of the member in this server. */
export function summarizeServer(result: ServerResult | undefined): string[] {
  if (!result) return ['This server has no binds yet, so there are no roles to give.'];
  if (!result.present) return ['You are not a member of this server any more.'];
  const lines: string[] = [];
  if (result.added.length > 0) lines.push(`Roles given: ${result.added.map(roleMention).join(', ')}`);
  if (result.removed.length > 0) lines.push(`Roles removed: ${result.removed.map(roleMention).join(', ')}`);
  if (result.added.length === 0 && result.removed.length === 0) lines.push('No role changes.');
  if (result.renamed) lines.push(`Nickname set to “${result.renamed}”.`);
  const decisions = result.plan?.decisions ?? [];
  if (decisions.length > 0) lines.push('', 'Binds:', ...decisions.flatMap((d) => d.binds.flatMap((b) => bindLines(b))));
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
