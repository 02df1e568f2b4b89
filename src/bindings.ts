// What a server can bind to a role, and how each kind is named to users. Every bind can be read as
// a rule: an item bind is the rule of one atom, a collectible bind one collectible atom, and a rule
// bind its expression; that is how a check learns what to ask Roblox.

import { escapeMarkdown } from 'discord.js';
import { assetTypesKey } from './roblox/assettypes';
import { type Atom, atomsOf, formatRule, MAX_GROUP_RANK, parseRule, type Rule } from './rules/syntax';

type GroupAtom = Atom & { type: 'group' };

export const BIND_KINDS = ['gamepass', 'badge', 'asset', 'privateserver', 'verified', 'collectible', 'rule', 'group'] as const;
export type BindKind = (typeof BIND_KINDS)[number];
/** Kinds that name one Roblox item. */
export type ItemKind = 'gamepass' | 'badge' | 'asset' | 'privateserver';

export type Bind =
  | {
      roleId: string;
      kind: ItemKind;
      /** Roblox item id as a decimal string. */
      itemId: string;
      /** The item's name on Roblox: null when it could not be learnt yet; absent when not read. */
      name?: string | null;
    }
  | { roleId: string; kind: 'verified'; itemId: '' }
  | RuleBind<'collectible'>
  | RuleBind<'rule'>
  | (RuleBind<'group'> & {
      /** The group's name on Roblox: null when it could not be learnt yet; absent when not read. */
      name?: string | null;
    });

/**
 * A collectible, rule or group bind: its itemId is the rule's normalised text (formatRule), which
 * keys the bind. A group bind is the rule of one group atom (`group:123>=5`).
 */
export interface RuleBind<K extends 'collectible' | 'rule' | 'group'> {
  roleId: string;
  kind: K;
  itemId: string;
  rule: Rule;
  /** The rule as its author wrote it. */
  written: string;
}

export interface ItemRef {
  kind: ItemKind;
  itemId: string;
}

export { MAX_ITEM_ID } from './rules/syntax';

/** At most this many binds per server: every member's check must stay a handful of requests. */
export const MAX_BINDS_PER_SERVER = 100;
/** At most this many distinct items named by a server's binds and rules, for the same reason. */
export const MAX_ITEMS_PER_SERVER = 100;

export const KIND_LABELS: Record<BindKind, string> = {
  gamepass: 'game pass',
  badge: 'badge',
  asset: 'asset',
  privateserver: 'private server',
  verified: 'verified',
  collectible: 'collectibles',
  rule: 'rule',
  group: 'group rank',
};

export function isBindKind(value: unknown): value is BindKind {
  return typeof value === 'string' && (BIND_KINDS as readonly string[]).includes(value);
}

export function itemKey(item: { kind: ItemKind; itemId: string }): string {
  return `${item.kind}:${item.itemId}`;
}

/**
 * Kinds whose items have a public name on Roblox. A private server's name is chosen by whoever
 * owns it and can be read only with that owner's cookie (games.roblox.com/v1/vip-servers/{id}), so
 * a private-server bind is shown by its id.
 */
export const NAMED_KINDS: ReadonlySet<BindKind> = new Set(['gamepass', 'badge', 'asset', 'group']);

/**
 * A name from Roblox is anyone's text: shown as written, never as Discord markup. Markdown (masked
 * links included) is escaped, mentions, channels, emoji and timestamps (all `<…>`) lose their `<`,
 * and @everyone / @here are broken with a zero-width space. Length and line breaks are dealt with
 * where names enter (src/roblox/items.ts).
 */
export function discordSafe(text: string): string {
  return escapeMarkdown(text, { maskedLink: true, heading: true, bulletedList: true, numberedList: true })
    .replace(/</g, '\\<')
    .replace(/@(everyone|here)/gi, '@\u200b$1');
}

/** A collectible bind: at least `count` collectibles of these asset types (none: any type). */
export function collectibleBind(roleId: string, count: number, assetTypes: readonly string[]): Bind {
  const key = assetTypesKey(assetTypes);
  const rule: Rule = { op: 'atom', atom: { type: 'collectibles', assetTypes: key === '*' ? [] : key.split(','), atLeast: count } };
  const itemId = formatRule(rule);
  return { roleId, kind: 'collectible', itemId, rule, written: itemId };
}

/** A group bind: the member's highest rank in the group is within min..max. */
export function groupBind(roleId: string, groupId: string, min: number, max: number): Bind {
  const rule: Rule = { op: 'atom', atom: { type: 'group', groupId, min, max } };
  const itemId = formatRule(rule);
  return { roleId, kind: 'group', itemId, rule, written: itemId };
}

/** The group atom of a group bind. */
export function groupOf(bind: RuleBind<'group'>): GroupAtom {
  return bind.rule.op === 'atom' && bind.rule.atom.type === 'group' ? bind.rule.atom : { type: 'group', groupId: '0', min: 1, max: MAX_GROUP_RANK };
}

/** A rule bind; throws RuleError when the text is not a rule. */
export function ruleBind(roleId: string, written: string): Bind {
  const rule = parseRule(written);
  return { roleId, kind: 'rule', itemId: formatRule(rule), rule, written };
}

/** A stored bind, or undefined for a row no command could have written. */
export function storedBind(row: { roleId: string; kind: string; itemId: string; expression: string | null; name?: string | null }): Bind | undefined {
  if (!isBindKind(row.kind)) return undefined;
  if (row.kind === 'verified') return { roleId: row.roleId, kind: row.kind, itemId: '' };
  if (row.kind !== 'collectible' && row.kind !== 'rule' && row.kind !== 'group') return { roleId: row.roleId, kind: row.kind, itemId: row.itemId, name: row.name };
  try {
    const rule = parseRule(row.itemId);
    if (row.kind === 'collectible' && (rule.op !== 'atom' || rule.atom.type !== 'collectibles')) return undefined;
    if (row.kind === 'group') return rule.op === 'atom' && rule.atom.type === 'group' ? { roleId: row.roleId, kind: row.kind, itemId: row.itemId, rule, written: row.itemId, name: row.name } : undefined;
    return { roleId: row.roleId, kind: row.kind, itemId: row.itemId, rule, written: row.expression ?? row.itemId };
  } catch {
    return undefined;
  }
}

/** An item or group bind with its name; other kinds have none. */
export function withName(bind: Bind, name: string | null): Bind {
  return bind.kind === 'verified' || bind.kind === 'collectible' || bind.kind === 'rule' ? bind : { ...bind, name };
}

/** The Roblox id a named bind's name belongs to: the item's, or a group bind's group. */
export function namedId(bind: Bind): string {
  return bind.kind === 'group' ? groupOf(bind).groupId : bind.itemId;
}

/** The bind as a rule, so that the items and collectibles every kind needs are found the same way. */
export function ruleOf(bind: Bind): Rule {
  if (bind.kind === 'collectible' || bind.kind === 'rule' || bind.kind === 'group') return bind.rule;
  if (bind.kind === 'verified') return { op: 'atom', atom: { type: 'verified' } };
  return { op: 'atom', atom: { type: 'item', kind: bind.kind, id: bind.itemId } };
}

export function describeBind(bind: Bind): string {
  switch (bind.kind) {
    case 'verified':
      return 'linked Roblox account';
    case 'collectible': {
      const atom = bind.rule.op === 'atom' && bind.rule.atom.type === 'collectibles' ? bind.rule.atom : undefined;
      const types = atom && atom.assetTypes.length > 0 ? ` of type ${atom.assetTypes.join(', ')}` : '';
      return `at least ${atom?.atLeast ?? '?'} collectible(s)${types} (\`${bind.itemId}\`)`;
    }
    case 'rule':
      return `rule \`${bind.written}\``;
    case 'group': {
      const { groupId, min, max } = groupOf(bind);
      const group = bind.name ? `${discordSafe(bind.name)} (${groupId})` : `${groupId}${bind.name === null ? ' (name unknown)' : ''}`;
      return `group ${group}, ${describeRanks(min, max)} (\`${bind.itemId}\`)`;
    }
    default:
      // "game pass VIP Pass (83167572)", or the id alone while the name is unknown.
      if (bind.name) return `${KIND_LABELS[bind.kind]} ${discordSafe(bind.name)} (${bind.itemId})`;
      return `${KIND_LABELS[bind.kind]} ${bind.itemId}${bind.name === null && NAMED_KINDS.has(bind.kind) ? ' (name unknown)' : ''}`;
  }
}

/** "any member", "not a member", "rank 5 or higher", "rank 0 to 10"... */
function describeRanks(min: number, max: number): string {
  if (max === MAX_GROUP_RANK) return min === 0 ? 'anyone (member or not)' : min === 1 ? 'any member' : `rank ${min} or higher`;
  if (max === 0) return 'not a member';
  if (min === 0) return `not a member, or rank ${max} or lower`;
  return min === max ? `rank ${min} exactly` : `rank ${min} to ${max}`;
}

/** Every distinct item the binds name, their rules' atoms included, in a stable order. */
export function boundItems(binds: Iterable<Bind>): ItemRef[] {
  const items = new Map<string, ItemRef>();
  for (const bind of binds) {
    for (const atom of atomsOf(ruleOf(bind))) {
      if (atom.type !== 'item') continue;
      const item = { kind: atom.kind, itemId: atom.id };
      items.set(itemKey(item), item);
    }
  }
  return [...items.values()].sort((a, b) => itemKey(a).localeCompare(itemKey(b)));
}

/**
 * The collectible counts the binds ask about: asset-types key → the highest count any of them needs
 * (counting can stop there). Empty when no bind asks, and then no collectible request is made.
 */
export function boundCollectibles(binds: Iterable<Bind>): Map<string, number> {
  const needs = new Map<string, number>();
  for (const bind of binds) {
    for (const atom of atomsOf(ruleOf(bind))) {
      if (atom.type !== 'collectibles') continue;
      const key = assetTypesKey(atom.assetTypes);
      needs.set(key, Math.max(needs.get(key) ?? 0, atom.atLeast));
    }
  }
  return needs;
}

/** The groups whose ranks the binds ask about (their rules included); empty means no group read. */
export function boundGroups(binds: Iterable<Bind>): Set<string> {
  const groups = new Set<string>();
  for (const bind of binds) for (const atom of atomsOf(ruleOf(bind))) if (atom.type === 'group') groups.add(atom.groupId);
  return groups;
}
