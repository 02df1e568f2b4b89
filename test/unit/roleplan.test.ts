import { describe, expect, test } from 'vitest';
import { type Bind, collectibleBind, ruleBind } from '../../src/bindings';
import type { Outcome, Tally } from '../../src/ownership';
import { planRoles, type RoleAccess } from '../../src/roleplan';

const OWNS: Outcome = { status: 'owns' };
const NOT: Outcome = { status: 'not_owned' };
const UNKNOWN: Outcome = { status: 'unknown', reason: 'inventory is private' };
const OK: RoleAccess = { ok: true };

const pass = (roleId: string, itemId: string): Bind => ({ roleId, kind: 'gamepass', itemId });
const badge = (roleId: string, itemId: string): Bind => ({ roleId, kind: 'badge', itemId });
const verified = (roleId: string): Bind => ({ roleId, kind: 'verified', itemId: '' });

interface Case {
  name: string;
  binds: Bind[];
  outcomes?: Record<string, Outcome>;
  linked?: boolean;
  has?: string[];
  access?: Record<string, RoleAccess>;
  add: string[];
  remove: string[];
  blocked?: string[];
}

const cases: Case[] = [
  { name: 'owned pass adds the role', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': OWNS }, add: ['vip'], remove: [] },
  { name: 'owned pass already held: nothing to do', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': OWNS }, has: ['vip'], add: [], remove: [] },
  { name: 'not owned and held: removed', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': NOT }, has: ['vip'], add: [], remove: ['vip'] },
  { name: 'not owned and not held: nothing', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': NOT }, add: [], remove: [] },
  { name: 'unknown never removes', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': UNKNOWN }, has: ['vip'], add: [], remove: [] },
  { name: 'unknown never adds', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': UNKNOWN }, add: [], remove: [] },
  { name: 'missing outcome counts as unknown', binds: [pass('vip', '1')], outcomes: {}, has: ['vip'], add: [], remove: [] },
  {
    name: 'several binds on one role: any owned adds',
    binds: [pass('vip', '1'), badge('vip', '2')],
    outcomes: { 'gamepass:1': NOT, 'badge:2': OWNS },
    add: ['vip'],
    remove: [],
  },
  {
    name: 'several binds: one owned keeps it even if another is unknown',
    binds: [pass('vip', '1'), badge('vip', '2')],
    outcomes: { 'gamepass:1': UNKNOWN, 'badge:2': OWNS },
    has: ['vip'],
    add: [],
    remove: [],
  },
  {
    name: 'several binds: removed only when every one is definitely not owned',
    binds: [pass('vip', '1'), badge('vip', '2')],
    outcomes: { 'gamepass:1': NOT, 'badge:2': NOT },
    has: ['vip'],
    add: [],
    remove: ['vip'],
  },
  {
    name: 'several binds: one unknown and the rest not owned keeps the role',
    binds: [pass('vip', '1'), badge('vip', '2')],
    outcomes: { 'gamepass:1': NOT, 'badge:2': UNKNOWN },
    has: ['vip'],
    add: [],
    remove: [],
  },
  { name: 'roles no bind names are never touched', binds: [pass('vip', '1')], outcomes: { 'gamepass:1': NOT }, has: ['moderator', 'vip'], add: [], remove: ['vip'] },
  { name: 'verified role for a linked member', binds: [verified('linked')], add: ['linked'], remove: [] },
  { name: 'verified role goes when unlinked', binds: [verified('linked')], linked: false, has: ['linked'], add: [], remove: ['linked'] },
  {
    name: 'unlinked member loses every bound role, whatever the stored outcomes',
    binds: [pass('vip', '1'), verified('linked')],
    outcomes: { 'gamepass:1': OWNS },
    linked: false,
    has: ['vip', 'linked'],
    add: [],
    remove: ['vip', 'linked'],
  },
  {
    name: 'verified bind satisfies a role shared with an unknown pass',
    binds: [pass('member', '1'), verified('member')],
    outcomes: { 'gamepass:1': UNKNOWN },
    add: ['member'],
    remove: [],
  },
  {
    name: 'a role the bot cannot manage is blocked, not written',
    binds: [pass('vip', '1'), pass('gold', '2')],
    outcomes: { 'gamepass:1': OWNS, 'gamepass:2': OWNS },
    access: { vip: { ok: false, reason: 'above the bot' } },
    add: ['gold'],
    remove: [],
    blocked: ['vip'],
  },
  {
    name: 'a role the bot may only take (it gained staff powers) is not given, but is still taken from those who lost it',
    binds: [pass('club', '1'), pass('fans', '2')],
    outcomes: { 'gamepass:1': OWNS, 'gamepass:2': NOT },
    has: ['fans'],
    access: { club: { ok: false, reason: 'gained Administrator', removeOnly: true }, fans: { ok: false, reason: 'gained Administrator', removeOnly: true } },
    add: [],
    remove: ['fans'],
    blocked: ['club'],
  },
  { name: 'a deleted role is blocked', binds: [pass('gone', '1')], outcomes: { 'gamepass:1': OWNS }, access: { gone: undefined as unknown as RoleAccess }, add: [], remove: [], blocked: ['gone'] },
  { name: 'no binds: no plan', binds: [], has: ['vip'], add: [], remove: [] },
];

describe('planRoles', () => {
  test.each(cases)('$name', (c) => {
    const roleIds = new Set(c.binds.map((b) => b.roleId));
    const access = new Map<string, RoleAccess>([...roleIds].map((id) => [id, OK]));
    for (const [id, value] of Object.entries(c.access ?? {})) {
      if (value) access.set(id, value);
      else access.delete(id);
    }
    const plan = planRoles({
      binds: c.binds,
      linked: c.linked ?? true,
      outcomes: new Map(Object.entries(c.outcomes ?? {})),
      memberRoles: new Set(c.has ?? []),
      roles: access,
    });
    expect(plan.add.sort()).toEqual([...c.add].sort());
    expect(plan.remove.sort()).toEqual([...c.remove].sort());
    expect(plan.decisions.filter((d) => d.blocked).map((d) => d.roleId)).toEqual(c.blocked ?? []);
  });

  test('explains each role with the outcome of each of its binds', () => {
    const plan = planRoles({
      binds: [pass('vip', '1'), badge('vip', '2')],
      linked: true,
      outcomes: new Map([['gamepass:1', UNKNOWN]]),
      memberRoles: new Set(),
      roles: new Map([['vip', OK]]),
    });
    expect(plan.decisions).toEqual([
      {
        roleId: 'vip',
        verdict: 'undetermined',
        has: false,
        change: 'none',
        binds: [
          { bind: pass('vip', '1'), outcome: UNKNOWN },
          { bind: badge('vip', '2'), outcome: { status: 'unknown', reason: 'not checked yet' } },
        ],
      },
    ]);
  });
});

describe('planRoles with collectible and rule binds', () => {
  const rule = (roleId: string, text: string): Bind => ruleBind(roleId, text);
  const plan = (binds: Bind[], outcomes: Record<string, Outcome>, tallies: Record<string, Tally>, has: string[] = [], linked = true) =>
    planRoles({
      binds,
      linked,
      outcomes: new Map(Object.entries(outcomes)),
      tallies: new Map(Object.entries(tallies)),
      memberRoles: new Set(has),
      roles: new Map(binds.map((b) => [b.roleId, OK])),
    });
  const COUNT_UNREADABLE: Tally = { status: 'unknown', reason: 'Roblox sent an answer the bot could not read' };

  test('a definite false decides while collectibles are unknown: the role is removed', () => {
    const p = plan([rule('r', 'collectibles>=1 and not badge:7')], { 'badge:7': OWNS }, { '*': COUNT_UNREADABLE }, ['r']);
    expect(p.remove).toEqual(['r']);
    expect(p.decisions[0]!.binds[0]!.evaluated?.truth).toBe('false');
  });

  test('unknown keeps the role as it is, whether held or not', () => {
    const binds = [rule('r', 'collectibles>=1 and badge:7')];
    expect(plan(binds, { 'badge:7': OWNS }, { '*': COUNT_UNREADABLE }, ['r'])).toMatchObject({ add: [], remove: [] });
    expect(plan(binds, { 'badge:7': OWNS }, { '*': COUNT_UNREADABLE }, [])).toMatchObject({ add: [], remove: [] });
    expect(plan(binds, { 'badge:7': OWNS }, { '*': COUNT_UNREADABLE }, [])!.decisions[0]!.binds[0]!.outcome).toEqual({ status: 'unknown', reason: 'Roblox sent an answer the bot could not read' });
  });

  test('a collectible bind holds at its count and not below', () => {
    const binds = [collectibleBind('collector', 3, ['HAT', 'FACE'])];
    expect(plan(binds, {}, { 'FACE,HAT': { status: 'counted', count: 3, complete: true } }).add).toEqual(['collector']);
    expect(plan(binds, {}, { 'FACE,HAT': { status: 'counted', count: 2, complete: true } }, ['collector']).remove).toEqual(['collector']);
  });

  test('given when any bind is true, removed only when all are false', () => {
    const binds = [rule('vip', 'gamepass:1 and badge:2'), collectibleBind('vip', 10, []), pass('vip', '9')];
    const counted = (count: number): Record<string, Tally> => ({ '*': { status: 'counted', count, complete: true } });
    expect(plan(binds, { 'gamepass:1': NOT, 'badge:2': UNKNOWN, 'gamepass:9': NOT }, counted(10)).add).toEqual(['vip']);
    expect(plan(binds, { 'gamepass:1': NOT, 'badge:2': UNKNOWN, 'gamepass:9': NOT }, counted(9), ['vip']).remove).toEqual(['vip']);
    expect(plan(binds, { 'gamepass:1': OWNS, 'badge:2': UNKNOWN, 'gamepass:9': NOT }, counted(9), ['vip'])).toMatchObject({ add: [], remove: [] });
  });

  test('an unlinked member earns no rule, not even one of "not"', () => {
    const p = plan([rule('r', 'not badge:7'), collectibleBind('c', 1, [])], {}, {}, ['r', 'c'], false);
    expect(p.remove.sort()).toEqual(['c', 'r']);
  });

  test('atoms nobody read count as unknown', () => {
    const p = plan([rule('r', 'atleast(2, badge:1, badge:2, badge:3)')], { 'badge:1': OWNS }, {}, []);
    expect(p.decisions[0]!.verdict).toBe('undetermined');
    expect(p.decisions[0]!.binds[0]!.outcome).toEqual({ status: 'unknown', reason: 'not checked yet' });
  });
});
