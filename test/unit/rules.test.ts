import { describe, expect, test } from 'vitest';
import type { Outcome, Rank, Tally } from '../../src/ownership';
import { combine, evaluate, type Facts, type Truth, unknownReasons } from '../../src/rules/evaluate';
import { formatRule, MAX_RULE_DEPTH, MAX_RULE_LENGTH, parseRule, type Rule, RuleError } from '../../src/rules/syntax';

const T: Truth[] = ['true', 'false', 'unknown'];

describe('parseRule', () => {
  test.each([
    ['gamepass:1', 'gamepass:1'],
    ['GamePass:1 AND Badge:2', 'gamepass:1 and badge:2'],
    ['  verified   or   asset:3 ', 'verified or asset:3'],
    ['not privateserver:9', 'not privateserver:9'],
  ])('reads %j as %j', (source, normalised) => {
    expect(formatRule(parseRule(source))).toBe(normalised);
  });

  test('and binds tighter than or; parentheses are kept only where needed', () => {
    expect(parseRule('gamepass:1 or badge:2 and asset:3')).toEqual({
      op: 'or',
      of: [
        { op: 'atom', atom: { type: 'item', kind: 'gamepass', id: '1' } },
        { op: 'and', of: [{ op: 'atom', atom: { type: 'item', kind: 'badge', id: '2' } }, { op: 'atom', atom: { type: 'item', kind: 'asset', id: '3' } }] },
      ],
    });
    expect(formatRule(parseRule('(gamepass:1 or badge:2) and asset:3'))).toBe('(gamepass:1 or badge:2) and asset:3');
    expect(formatRule(parseRule('((gamepass:1)) and (badge:2 and asset:3)'))).toBe('gamepass:1 and badge:2 and asset:3');
    expect(formatRule(parseRule('not (gamepass:1 or badge:2)'))).toBe('not (gamepass:1 or badge:2)');
    expect(formatRule(parseRule('not not verified'))).toBe('not not verified');
  });

  test('collectibles: asset types upper-cased, sorted, deduplicated; any type without a list', () => {
    expect(parseRule('collectibles(face, hat,FACE)>=3')).toEqual({ op: 'atom', atom: { type: 'collectibles', assetTypes: ['FACE', 'HAT'], atLeast: 3 } });
    expect(formatRule(parseRule('Collectibles >= 10'))).toBe('collectibles>=10');
    expect(formatRule(parseRule('collectibles(DRESS_SKIRT_ACCESSORY)>=1'))).toBe('collectibles(DRESS_SKIRT_ACCESSORY)>=1');
  });

  test('group ranks: a member, at least a rank, at most a rank, or both; the defaults are left out', () => {
    expect(parseRule('Group:35>=100')).toEqual({ op: 'atom', atom: { type: 'group', groupId: '35', min: 100, max: 255 } });
    expect(parseRule('group:35')).toEqual({ op: 'atom', atom: { type: 'group', groupId: '35', min: 1, max: 255 } });
    // `<=0` alone is "not in the group"; another upper bound alone keeps "a member".
    expect(parseRule('group:35<=0')).toEqual({ op: 'atom', atom: { type: 'group', groupId: '35', min: 0, max: 0 } });
    expect(parseRule('group:35<=10')).toEqual({ op: 'atom', atom: { type: 'group', groupId: '35', min: 1, max: 10 } });
    expect(parseRule('group:35 >= 5 <= 10')).toEqual({ op: 'atom', atom: { type: 'group', groupId: '35', min: 5, max: 10 } });
    for (const [source, normalised] of [['group:35>=1', 'group:35'], ['group:35>=1<=255', 'group:35'], ['group:35>=0', 'group:35>=0'], ['group:35>=0<=0', 'group:35<=0'], ['group:35>=5<=10', 'group:35>=5<=10'], ['group:35 <= 10', 'group:35<=10']]) {
      expect(formatRule(parseRule(source!)), source).toBe(normalised);
      expect(parseRule(normalised!), source).toEqual(parseRule(source!));
    }
  });

  test('atleast(n, …)', () => {
    expect(formatRule(parseRule('ATLEAST(2, badge:1, badge:2, badge:3 or badge:4)'))).toBe('atleast(2, badge:1, badge:2, badge:3 or badge:4)');
  });

  test('the normalised text reads back to the same rule', () => {
    for (const source of ['gamepass:1 and (badge:2 or not asset:3)', 'atleast(1, verified, collectibles(HAT)>=2) or not badge:5']) {
      const once = formatRule(parseRule(source));
      expect(formatRule(parseRule(once))).toBe(once);
      expect(parseRule(once)).toEqual(parseRule(source));
    }
  });

  test.each<[string, number, string, string]>([
    ['', 1, 'a rule, such as `gamepass:123 and not badge:456`', 'the end of the rule'],
    ['gamepass', 9, '`:` and the gamepass id after `gamepass`', 'the end of the rule'],
    ['gamepass:abc', 10, 'a gamepass id (a whole number from 1 to 9007199254740991)', '`abc`'],
    ['gamepass:0', 10, 'a gamepass id (a whole number from 1 to 9007199254740991)', '`0`'],
    ['gamepass:99999999999999999999', 10, 'a gamepass id (a whole number from 1 to 9007199254740991)', '`99999999999999999999`'],
    ['gamepass:1 and', 15, "`not`, `(`, `atleast(` or an atom (gamepass, badge, asset, privateserver, verified, collectibles, group)", 'the end of the rule'],
    ['gamepass:1 badge:2', 12, '`and`, `or`, or the end of the rule', '`badge`'],
    ['(gamepass:1 or badge:2', 23, '`)`, `and` or `or`', 'the end of the rule'],
    ['hat:5', 1, "`not`, `(`, `atleast(` or an atom (gamepass, badge, asset, privateserver, verified, collectibles, group)", '`hat`'],
    ['gamepass:1 & badge:2', 12, 'a name, a number, or one of ( ) , : >= <=', '`&`'],
    ['collectibles(HAT,SOCKS)>=1', 18, 'an asset type such as HAT or FACE', "`SOCKS` (it is not one of Roblox's asset types (for example HAT, FACE, HAIR_ACCESSORY))"],
    ['collectibles(purchased_place)>=1', 14, 'an asset type such as HAT or FACE', "`PURCHASED_PLACE` (places are never collectibles, and Roblox allows that filter only with a member's own sign-in)"],
    ['collectibles>=0', 15, 'a count (a whole number from 1 to 1000)', '`0`'],
    ['collectibles>1', 13, 'a name, a number, or one of ( ) , : >= <=', '`>`'],
    ['collectibles 1', 14, '`>=` and a count after `collectibles`', '`1`'],
    ['atleast(3, badge:1, badge:2)', 1, '`atleast(n, …)` with n at most its 2 part(s)', 'n = 3'],
    ['atleast(1)', 10, '`,` and the parts of `atleast`', '`)`'],
    ['atleast 1, badge:2', 9, '`(` after `atleast`', '`1`'],
    ['group', 6, '`:` and the group id after `group`', 'the end of the rule'],
    ['group:0', 7, 'a group id (a whole number from 1 to 9007199254740991)', '`0`'],
    ['group:35>=256', 11, 'a rank (a whole number from 0 to 255)', '`256`'],
    ['group:35<=-1', 11, 'a name, a number, or one of ( ) , : >= <=', '`-`'],
    ['group:35>=10<=5', 9, 'a lowest rank no higher than the highest', '10 > 5'],
    ['group:35<=5>=1', 12, '`and`, `or`, or the end of the rule', '`>=`'],
  ])('refuses %j: at character %i, expected %s, found %s', (source, position, expected, found) => {
    let error: unknown;
    try {
      parseRule(source);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuleError);
    expect(error).toMatchObject({ position, expected, found });
    expect((error as RuleError).message).toBe(`at character ${position}: expected ${expected}, found ${found}`);
  });

  test(`limits: ${MAX_RULE_LENGTH} characters and ${MAX_RULE_DEPTH} levels`, () => {
    const long = Array.from({ length: 40 }, (_, i) => `badge:${1000 + i}`).join(' or ');
    expect(long.length).toBeGreaterThan(MAX_RULE_LENGTH);
    expect(() => parseRule(long)).toThrow(new RuleError(MAX_RULE_LENGTH + 1, `a rule of at most ${MAX_RULE_LENGTH} characters and ${MAX_RULE_DEPTH} levels of nesting`, `${long.length} characters`));
    // not^7 of an atom is 8 levels; one more is refused, at the ninth level's start.
    expect(() => parseRule(`${'not '.repeat(MAX_RULE_DEPTH - 1)}verified`)).not.toThrow();
    const deep = `${'not '.repeat(MAX_RULE_DEPTH)}verified`;
    expect(() => parseRule(deep)).toThrow(RuleError);
    try {
      parseRule(deep);
    } catch (error) {
      expect(error).toMatchObject({ position: 4 * MAX_RULE_DEPTH + 1, expected: `at most ${MAX_RULE_DEPTH} levels of nesting` });
    }
    // Parentheses alone add no level.
    expect(() => parseRule(`${'('.repeat(20)}verified${')'.repeat(20)}`)).not.toThrow();
  });
});

describe('three-valued truth tables', () => {
  const not = { op: 'not' } as Rule & { op: 'not' };
  const and = { op: 'and' } as Rule & { op: 'and' };
  const or = { op: 'or' } as Rule & { op: 'or' };
  const atleast = (n: number) => ({ op: 'atleast', n }) as Rule & { op: 'atleast' };

  test('not', () => {
    expect(T.map((a) => combine(not, [a]))).toEqual(['false', 'true', 'unknown']);
  });

  // Kleene's tables, row a, column b, in the order true / false / unknown.
  test('and', () => {
    expect(T.map((a) => T.map((b) => combine(and, [a, b])))).toEqual([
      ['true', 'false', 'unknown'],
      ['false', 'false', 'false'],
      ['unknown', 'false', 'unknown'],
    ]);
  });

  test('or', () => {
    expect(T.map((a) => T.map((b) => combine(or, [a, b])))).toEqual([
      ['true', 'true', 'true'],
      ['true', 'false', 'unknown'],
      ['true', 'unknown', 'unknown'],
    ]);
  });

  const assignments = (k: number): Truth[][] => (k === 0 ? [[]] : assignments(k - 1).flatMap((rest) => T.map((t) => [t, ...rest])));
  const completions = (truths: Truth[]): boolean[][] =>
    truths.reduce<boolean[][]>((acc, t) => acc.flatMap((prefix) => (t === 'unknown' ? [[...prefix, true], [...prefix, false]] : [[...prefix, t === 'true']])), [[]]);

  test('atleast(n, …): true when n parts are true, false when too few can still be, else unknown — for every n and every assignment of up to 4 parts', () => {
    for (let k = 1; k <= 4; k++) {
      for (let n = 1; n <= k; n++) {
        for (const truths of assignments(k)) {
          const trues = truths.filter((t) => t === 'true').length;
          const possible = truths.filter((t) => t !== 'false').length;
          const expected: Truth = trues >= n ? 'true' : possible < n ? 'false' : 'unknown';
          expect(combine(atleast(n), truths), `atleast(${n}, ${truths.join(', ')})`).toBe(expected);
        }
      }
    }
  });

  test('never guesses: a definite answer holds however the unknown parts turn out, for and, or, atleast of up to 4 parts', () => {
    for (let k = 1; k <= 4; k++) {
      const ops = [and, or, ...Array.from({ length: k }, (_, i) => atleast(i + 1))];
      for (const op of ops) {
        const classic = (bools: boolean[]) => (op.op === 'and' ? bools.every(Boolean) : op.op === 'or' ? bools.some(Boolean) : bools.filter(Boolean).length >= (op as { n: number }).n);
        for (const truths of assignments(k)) {
          const answers = new Set(completions(truths).map(classic));
          const answer = combine(op, truths);
          if (answer !== 'unknown') expect([...answers], `${op.op} ${truths.join(',')}`).toEqual([answer === 'true']);
          // and/or/atleast are monotone: unknown only when the completions really disagree.
          else expect(answers.size, `${op.op} ${truths.join(',')}`).toBe(2);
        }
      }
    }
  });
});

describe('evaluate', () => {
  const facts = (items: Record<string, Outcome>, tallies: Record<string, Tally> = {}, linked = true, ranks: Record<string, Rank> = {}): Facts => ({
    linked,
    item: (key) => items[key] ?? { status: 'unknown', reason: 'not checked yet' },
    collectibles: (key) => tallies[key] ?? { status: 'unknown', reason: 'not counted' },
    group: (groupId) => ranks[groupId] ?? { status: 'unknown', reason: 'group not read' },
  });
  const OWNS: Outcome = { status: 'owns' };
  const NOT: Outcome = { status: 'not_owned' };
  const PRIVATE: Outcome = { status: 'unknown', reason: 'inventory is private' };
  const truth = (rule: string, f: Facts) => evaluate(parseRule(rule), f).truth;

  test('a definite false decides while collectibles cannot be read (the issue\'s example)', () => {
    const f = facts({ 'badge:7': OWNS }, { '*': { status: 'unknown', reason: 'Roblox sent an answer the bot could not read' } });
    expect(truth('collectibles>=1 and not badge:7', f)).toBe('false');
    expect(truth('collectibles>=1 or badge:7', f)).toBe('true');
    expect(truth('collectibles>=1 and badge:7', f)).toBe('unknown');
    expect(unknownReasons(evaluate(parseRule('collectibles>=1 and badge:7 and asset:9'), f))).toEqual(['Roblox sent an answer the bot could not read', 'not checked yet']);
  });

  test('atoms: items, verified, collectible counts (complete, and stopped early)', () => {
    const f = facts(
      { 'gamepass:1': OWNS, 'badge:2': NOT, 'asset:3': PRIVATE },
      { 'FACE,HAT': { status: 'counted', count: 4, complete: true }, '*': { status: 'counted', count: 5, complete: false } },
    );
    expect(truth('gamepass:1', f)).toBe('true');
    expect(truth('badge:2', f)).toBe('false');
    expect(truth('asset:3', f)).toBe('unknown');
    expect(truth('verified', f)).toBe('true');
    expect(truth('verified', facts({}, {}, false))).toBe('false');
    expect(truth('collectibles(hat,face)>=4', f)).toBe('true');
    expect(truth('collectibles(FACE,HAT)>=5', f)).toBe('false');
    expect(truth('collectibles>=5', f)).toBe('true');
    // Counting stopped at 5 because no bind needed more then: 6 is not known to be missing.
    expect(truth('collectibles>=6', f)).toBe('unknown');
    expect(truth('collectibles(HAT)>=1', f)).toBe('unknown'); // a set nobody counted
  });

  test('the tree carries each part\'s answer and detail', () => {
    const evaluated = evaluate(parseRule('gamepass:1 and not badge:2'), facts({ 'gamepass:1': OWNS, 'badge:2': NOT }));
    expect(evaluated).toMatchObject({
      truth: 'true',
      parts: [
        { truth: 'true', detail: 'owns' },
        { truth: 'true', parts: [{ truth: 'false', detail: 'does not own' }] },
      ],
    });
  });

  test('unknown everywhere: every operator over unknown atoms stays unknown unless a definite part decides', () => {
    const f = facts({ 'badge:1': PRIVATE, 'badge:2': PRIVATE, 'badge:3': OWNS, 'badge:4': NOT });
    expect(truth('not badge:1', f)).toBe('unknown');
    expect(truth('badge:1 and badge:2', f)).toBe('unknown');
    expect(truth('badge:1 or badge:2', f)).toBe('unknown');
    expect(truth('badge:1 and badge:4', f)).toBe('false');
    expect(truth('badge:1 or badge:3', f)).toBe('true');
    expect(truth('atleast(2, badge:1, badge:2, badge:3)', f)).toBe('unknown');
    expect(truth('atleast(2, badge:1, badge:4, badge:3)', f)).toBe('unknown');
    expect(truth('atleast(3, badge:1, badge:4, badge:3)', f)).toBe('false');
    expect(truth('atleast(1, badge:1, badge:4, badge:3)', f)).toBe('true');
    expect(truth('not (badge:1 or badge:3)', f)).toBe('false');
  });

  test('group atoms: the highest rank within the range is true, outside false, unread unknown, in every operator', () => {
    const RANKED = (rank: number): Rank => ({ status: 'ranked', rank });
    const f = facts({ 'badge:1': { status: 'owns' }, 'badge:2': { status: 'not_owned' } }, {}, true, { '10': RANKED(100), '11': RANKED(0), '12': { status: 'unknown', reason: 'Roblox rate limit reached; will retry' } });
    // The rank's own truth table: member, thresholds, upper bounds, "not in the group".
    const table: [string, Truth][] = [
      ['group:10', 'true'],
      ['group:10>=100', 'true'],
      ['group:10>=101', 'false'],
      ['group:10<=99', 'false'],
      ['group:10>=50<=100', 'true'],
      ['group:10<=0', 'false'],
      ['group:11', 'false'],
      ['group:11<=0', 'true'],
      ['group:11>=0', 'true'],
      ['group:12', 'unknown'],
      ['group:12<=0', 'unknown'],
      ['group:12>=0', 'unknown'],
      ['group:13', 'unknown'], // a group nobody read
      // Unknown ranks in the operators: decided only by a definite part.
      ['not group:12', 'unknown'],
      ['group:12 and badge:1', 'unknown'],
      ['group:12 and badge:2', 'false'],
      ['group:12 or badge:1', 'true'],
      ['group:12 or badge:2', 'unknown'],
      ['atleast(2, group:12, group:10, badge:2)', 'unknown'],
      ['atleast(2, group:12, group:11, badge:2)', 'false'],
      ['atleast(2, group:12, group:10, badge:1)', 'true'],
    ];
    for (const [rule, expected] of table) expect(truth(rule, f), rule).toBe(expected);
    expect(unknownReasons(evaluate(parseRule('group:12 and group:13'), f))).toEqual(['Roblox rate limit reached; will retry', 'group not read']);
    expect(evaluate(parseRule('group:10>=5 and not group:11'), f)).toMatchObject({ truth: 'true', parts: [{ detail: 'rank 100' }, { parts: [{ detail: 'not in the group' }] }] });
  });
});
