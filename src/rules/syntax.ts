// The rule language of `/bind add type:rule`: what it looks like, how it is read, and the one
// normalised way it is written back (which keys the bind, so the same rule cannot be bound twice).
//
//   rule    := or
//   or      := and ("or" and)*
//   and     := unary ("and" unary)*
//   unary   := "not" unary | "(" rule ")" | "atleast" "(" number ("," rule)+ ")" | atom
//   atom    := see ATOMS below; each keyword reads the rest of its own atom
//
// Case-insensitive. A new atom is one entry in ATOMS, its variant in Atom, and
// its answer in evaluate.ts.

import type { ItemKind } from '../bindings';
import { assetTypeProblem, assetTypesKey } from '../roblox/assettypes';

/** Largest id we accept: Discord integer options and JSON numbers are exact only up to 2^53 - 1. */
export const MAX_ITEM_ID = Number.MAX_SAFE_INTEGER;

export type Atom =
  | { type: 'item'; kind: ItemKind; id: string }
  | { type: 'verified' }
  /** At least `atLeast` collectibles of these asset types (sorted; empty means any type). */
  | { type: 'collectibles'; assetTypes: string[]; atLeast: number }
  /** The member's highest rank in a Roblox group (0: not a member) is within min..max. */
  | { type: 'group'; groupId: string; min: number; max: number };

export type Rule = { op: 'atom'; atom: Atom } | { op: 'not'; of: Rule } | { op: 'and' | 'or'; of: Rule[] } | { op: 'atleast'; n: number; of: Rule[] };

export const MAX_RULE_LENGTH = 300;
/** Levels of nesting: `not (a and b)` is 3 deep. Deeper rules are hard to read and to check. */
export const MAX_RULE_DEPTH = 8;
/** A count above this would need a page per hundred collectibles for every member who comes close. */
export const MAX_COLLECTIBLE_COUNT = 1_000;
/** Roblox group ranks are 0 (not a member, the Guest role) to 255 (the owner): GroupRole.rank in the spec. */
export const MAX_GROUP_RANK = 255;

export const RULE_LIMITS = `at most ${MAX_RULE_LENGTH} characters and ${MAX_RULE_DEPTH} levels of nesting`;

/** Why a rule could not be read: where (1-based character), what was expected, what was found. */
export class RuleError extends Error {
  constructor(
    readonly position: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`at character ${position}: expected ${expected}, found ${found}`);
  }
}

type Token = { kind: 'word' | 'number' | 'symbol' | 'end'; text: string; at: number };

/** One token at the sticky position: spaces (skipped), a name, a number or a symbol. */
const TOKEN = /\s+|(?<word>[A-Za-z_][A-Za-z_0-9]*)|(?<number>[0-9]+)|(?<symbol>>=|<=|[(),:])/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (let at = 0; at < source.length; at = TOKEN.lastIndex) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(source);
    if (!match) throw new RuleError(at + 1, 'a name, a number, or one of ( ) , : >= <=', describeChar(source[at]!));
    const { word, number, symbol } = match.groups!;
    if (word !== undefined) tokens.push({ kind: 'word', text: word.toLowerCase(), at });
    else if (number !== undefined) tokens.push({ kind: 'number', text: number, at });
    else if (symbol !== undefined) tokens.push({ kind: 'symbol', text: symbol, at });
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

const describeChar = (c: string) => (/\s/.test(c) ? 'a space' : `\`${c}\``);
const describeToken = (t: Token) => (t.kind === 'end' ? 'the end of the rule' : `\`${t.text}\``);

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.index]!;
  }

  next(): Token {
    return this.tokens[Math.min(this.index++, this.tokens.length - 1)]!;
  }

  fail(expected: string, token = this.peek()): never {
    throw new RuleError(token.at + 1, expected, describeToken(token));
  }

  /** Consumes `text` (a symbol or a lower-case keyword) or fails saying what was expected. */
  expect(text: string, expected = `\`${text}\``): void {
    if (!this.accept(text)) this.fail(expected);
  }

  accept(text: string): boolean {
    if (this.peek().text !== text) return false;
    this.next();
    return true;
  }

  /** A whole number between min and max. */
  number(what: string, min: number, max: number): number {
    const token = this.peek();
    const expected = `${what} (a whole number from ${min} to ${max})`;
    if (token.kind !== 'number') this.fail(expected);
    const value = Number(token.text);
    if (!Number.isSafeInteger(value) || value < min || value > max) this.fail(expected);
    this.next();
    return value;
  }
}

/** Reads a rule; throws RuleError saying where and why it cannot. */
export function parseRule(source: string): Rule {
  if (source.length > MAX_RULE_LENGTH) throw new RuleError(MAX_RULE_LENGTH + 1, `a rule of ${RULE_LIMITS}`, `${source.length} characters`);
  const p = new Parser(tokenize(source));
  if (p.peek().kind === 'end') p.fail('a rule, such as `gamepass:123 and not badge:456`');
  const starts = new Map<Rule, number>();
  const rule = parseOr(p, starts);
  if (p.peek().kind !== 'end') p.fail('`and`, `or`, or the end of the rule');
  const tooDeep = nodeAtDepth(rule, MAX_RULE_DEPTH + 1);
  if (tooDeep) throw new RuleError(starts.get(tooDeep)! + 1, `at most ${MAX_RULE_DEPTH} levels of nesting`, 'a deeper part');
  return rule;
}

type Starts = Map<Rule, number>;

function parseOr(p: Parser, starts: Starts): Rule {
  return parseChain(p, starts, 'or', () => parseAnd(p, starts));
}

function parseAnd(p: Parser, starts: Starts): Rule {
  return parseChain(p, starts, 'and', () => parseUnary(p, starts));
}

/** `part (op part)*`: one part is just that part, several are one node. */
function parseChain(p: Parser, starts: Starts, op: 'and' | 'or', part: () => Rule): Rule {
  const at = p.peek().at;
  const parts = [part()];
  while (p.accept(op)) parts.push(part());
  if (parts.length === 1) return parts[0]!;
  const rule: Rule = { op, of: parts };
  starts.set(rule, at);
  return rule;
}

function parseUnary(p: Parser, starts: Starts): Rule {
  const token = p.peek();
  const started = (rule: Rule) => (starts.set(rule, token.at), rule);
  if (token.kind === 'word' && token.text === 'not') {
    p.next();
    return started({ op: 'not', of: parseUnary(p, starts) });
  }
  if (p.accept('(')) {
    const inner = parseOr(p, starts);
    p.expect(')', '`)`, `and` or `or`');
    return inner;
  }
  if (token.kind === 'word' && token.text === 'atleast') {
    p.next();
    p.expect('(', '`(` after `atleast`');
    const n = p.number('how many must hold', 1, 99);
    const of: Rule[] = [];
    while (p.accept(',')) of.push(parseOr(p, starts));
    if (of.length === 0) p.fail('`,` and the parts of `atleast`');
    if (n > of.length) throw new RuleError(token.at + 1, `\`atleast(n, …)\` with n at most its ${of.length} part(s)`, `n = ${n}`);
    p.expect(')', '`,` or `)`');
    return started({ op: 'atleast', n, of });
  }
  const read = token.kind === 'word' ? ATOMS[token.text] : undefined;
  if (!read) p.fail(`\`not\`, \`(\`, \`atleast(\` or an atom (${Object.keys(ATOMS).join(', ')})`);
  p.next();
  return started({ op: 'atom', atom: read(p) });
}

/** The first node (in reading order) at this depth, the whole rule being depth 1. */
function nodeAtDepth(rule: Rule, depth: number): Rule | undefined {
  if (depth === 1) return rule;
  const parts = rule.op === 'atom' ? [] : rule.op === 'not' ? [rule.of] : rule.of;
  for (const part of parts) {
    const found = nodeAtDepth(part, depth - 1);
    if (found) return found;
  }
  return undefined;
}

const itemAtom = (kind: ItemKind) => (p: Parser): Atom => {
  p.expect(':', `\`:\` and the ${kind} id after \`${kind}\``);
  return { type: 'item', kind, id: String(p.number(`a ${kind} id`, 1, MAX_ITEM_ID)) };
};

function collectiblesAtom(p: Parser): Atom {
  const assetTypes: string[] = [];
  if (p.accept('(')) {
    do {
      const token = p.peek();
      if (token.kind !== 'word') p.fail('an asset type such as HAT or FACE');
      const name = token.text.toUpperCase();
      const problem = assetTypeProblem(name);
      if (problem) throw new RuleError(token.at + 1, 'an asset type such as HAT or FACE', `\`${name}\` (${problem})`);
      p.next();
      assetTypes.push(name);
    } while (p.accept(','));
    p.expect(')', '`,` or `)` after the asset types');
  }
  p.expect('>=', '`>=` and a count after `collectibles`');
  const atLeast = p.number('a count', 1, MAX_COLLECTIBLE_COUNT);
  return { type: 'collectibles', assetTypes: assetTypesKey(assetTypes) === '*' ? [] : assetTypesKey(assetTypes).split(','), atLeast };
}

/**
 * The lowest rank when only a highest is given: 1 (any member), except that `<=0` can only mean
 * "not in the group".
 */
export const defaultMinRank = (max: number) => Math.min(1, max);

/** `group:<id>` (a member), `group:<id>>=<rank>`, `group:<id><=<rank>`, or both bounds. */
function groupAtom(p: Parser): Atom {
  p.expect(':', '`:` and the group id after `group`');
  const groupId = String(p.number('a group id', 1, MAX_ITEM_ID));
  const start = p.peek();
  const min = p.accept('>=') ? p.number('a rank', 0, MAX_GROUP_RANK) : undefined;
  const max = p.accept('<=') ? p.number('a rank', 0, MAX_GROUP_RANK) : MAX_GROUP_RANK;
  const lowest = min ?? defaultMinRank(max);
  if (lowest > max) throw new RuleError(start.at + 1, 'a lowest rank no higher than the highest', `${lowest} > ${max}`);
  return { type: 'group', groupId, min: lowest, max };
}

/** Each atom's keyword and the reader of what follows it. */
const ATOMS: Record<string, (p: Parser) => Atom> = {
  gamepass: itemAtom('gamepass'),
  badge: itemAtom('badge'),
  asset: itemAtom('asset'),
  privateserver: itemAtom('privateserver'),
  verified: () => ({ type: 'verified' }),
  collectibles: collectiblesAtom,
  group: groupAtom,
};

/** The normalised text of a rule: lower-case keywords, upper-case asset types, single spaces, only the parentheses needed. */
export function formatRule(rule: Rule): string {
  switch (rule.op) {
    case 'atom':
      return formatAtom(rule.atom);
    case 'not':
      return `not ${wrap(rule.of, rule.of.op === 'and' || rule.of.op === 'or')}`;
    case 'and':
      return rule.of.map((part) => wrap(part, part.op === 'or')).join(' and ');
    case 'or':
      return rule.of.map((part) => formatRule(part)).join(' or ');
    case 'atleast':
      return `atleast(${rule.n}, ${rule.of.map(formatRule).join(', ')})`;
  }
}

const wrap = (rule: Rule, needed: boolean) => (needed ? `(${formatRule(rule)})` : formatRule(rule));

export function formatAtom(atom: Atom): string {
  switch (atom.type) {
    case 'item':
      return `${atom.kind}:${atom.id}`;
    case 'verified':
      return 'verified';
    case 'collectibles':
      return `collectibles${atom.assetTypes.length > 0 ? `(${atom.assetTypes.join(',')})` : ''}>=${atom.atLeast}`;
    case 'group':
      return `group:${atom.groupId}${atom.min === defaultMinRank(atom.max) ? '' : `>=${atom.min}`}${atom.max === MAX_GROUP_RANK ? '' : `<=${atom.max}`}`;
  }
}

/** Every atom of a rule, left to right. */
export function* atomsOf(rule: Rule): Generator<Atom> {
  if (rule.op === 'atom') yield rule.atom;
  else if (rule.op === 'not') yield* atomsOf(rule.of);
  else for (const part of rule.of) yield* atomsOf(part);
}
