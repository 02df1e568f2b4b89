// A rule's answer for one member, in three values: an atom the bot could not read is unknown, and
// unknown decides nothing that a definite answer elsewhere does not (Kleene's logic). Pure.

import type { Outcome, Rank, Tally } from '../ownership';
import { assetTypesKey } from '../roblox/assettypes';
import type { Atom, Rule } from './syntax';

export type Truth = 'true' | 'false' | 'unknown';

/** What the member's answers are, as read by this check. */
export interface Facts {
  linked: boolean;
  /** Ownership of an item by key (`gamepass:123`). */
  item(key: string): Outcome;
  /** The member's collectibles of a set of asset types, by assetTypesKey. */
  collectibles(typesKey: string): Tally;
  /** The member's highest rank in a group, by group id. */
  group(groupId: string): Rank;
}

/** A rule with the answer of each of its parts, for /check's tree. */
export type Evaluated =
  | { rule: Rule & { op: 'atom' }; truth: Truth; detail: string }
  | { rule: Rule & { op: 'not' | 'and' | 'or' | 'atleast' }; truth: Truth; parts: Evaluated[] };

export function evaluate(rule: Rule, facts: Facts): Evaluated {
  if (rule.op === 'atom') {
    const { truth, detail } = answerAtom(rule.atom, facts);
    return { rule, truth, detail };
  }
  const parts = rule.op === 'not' ? [evaluate(rule.of, facts)] : rule.of.map((part) => evaluate(part, facts));
  return { rule, truth: combine(rule, parts.map((part) => part.truth)), parts };
}

/** The operators' truth tables, over the answers of their parts. */
export function combine(rule: Rule & { op: 'not' | 'and' | 'or' | 'atleast' }, truths: readonly Truth[]): Truth {
  let trues = 0;
  let unknowns = 0;
  for (const truth of truths) {
    if (truth === 'true') trues++;
    else if (truth === 'unknown') unknowns++;
  }
  switch (rule.op) {
    case 'not':
      return truths[0] === 'true' ? 'false' : truths[0] === 'false' ? 'true' : 'unknown';
    case 'and':
      return trues === truths.length ? 'true' : trues + unknowns < truths.length ? 'false' : 'unknown';
    case 'or':
      return trues > 0 ? 'true' : unknowns === 0 ? 'false' : 'unknown';
    case 'atleast':
      // True once n parts hold; false once too few can still hold.
      return trues >= rule.n ? 'true' : trues + unknowns < rule.n ? 'false' : 'unknown';
  }
}

function answerAtom(atom: Atom, facts: Facts): { truth: Truth; detail: string } {
  switch (atom.type) {
    case 'verified':
      return facts.linked ? { truth: 'true', detail: 'linked' } : { truth: 'false', detail: 'not linked' };
    case 'item': {
      const outcome = facts.item(`${atom.kind}:${atom.id}`);
      if (outcome.status === 'unknown') return { truth: 'unknown', detail: outcome.reason };
      return outcome.status === 'owns' ? { truth: 'true', detail: 'owns' } : { truth: 'false', detail: 'does not own' };
    }
    case 'collectibles': {
      const tally = facts.collectibles(assetTypesKey(atom.assetTypes));
      if (tally.status === 'unknown') return { truth: 'unknown', detail: tally.reason };
      if (tally.count >= atom.atLeast) return { truth: 'true', detail: `has ${tally.complete ? '' : 'at least '}${tally.count}` };
      // A count stopped early (at what the binds needed then) says nothing about a higher threshold.
      return tally.complete ? { truth: 'false', detail: `has ${tally.count}` } : { truth: 'unknown', detail: `counted only up to ${tally.count}; the next check counts further` };
    }
    case 'group': {
      const rank = facts.group(atom.groupId);
      if (rank.status === 'unknown') return { truth: 'unknown', detail: rank.reason };
      const detail = rank.rank === 0 ? 'not in the group' : `rank ${rank.rank}`;
      return { truth: rank.rank >= atom.min && rank.rank <= atom.max ? 'true' : 'false', detail };
    }
  }
}

/** Why an unknown rule is unknown: the distinct reasons of its unknown atoms. */
export function unknownReasons(evaluated: Evaluated): string[] {
  if (evaluated.truth !== 'unknown') return [];
  if ('detail' in evaluated) return [evaluated.detail];
  return [...new Set(evaluated.parts.flatMap(unknownReasons))];
}
