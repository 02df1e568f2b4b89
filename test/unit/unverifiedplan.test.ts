import { describe, expect, test } from 'vitest';
import type { RoleAccess } from '../../src/roleplan';
import { planUnverified, type UnverifiedInput } from '../../src/unverifiedplan';

const OK: RoleAccess = { ok: true };
const ABOVE: RoleAccess = { ok: false, reason: '@Unverified is not below the bot' };
const REMOVE_ONLY: RoleAccess = { ok: false, reason: '@Unverified has gained Kick Members', removeOnly: true };

const input = (linked: boolean, has: boolean, access: RoleAccess = OK, bound = false): UnverifiedInput => ({
  roleId: 'unverified',
  linked,
  memberRoles: new Set(has ? ['unverified', 'other'] : ['other']),
  access,
  bound,
});

describe('planUnverified', () => {
  test.each([
    ['unlinked without the role: given', false, false, 'add'],
    ['unlinked with the role: kept', false, true, 'none'],
    ['linked with the role: taken', true, true, 'remove'],
    ['linked without the role: nothing', true, false, 'none'],
  ] as const)('%s', (_name, linked, has, change) => {
    expect(planUnverified(input(linked, has))).toEqual({ roleId: 'unverified', change });
  });

  test('a role the bot cannot manage is a blocked change, never a write', () => {
    expect(planUnverified(input(false, false, ABOVE))).toEqual({ roleId: 'unverified', change: 'add', blocked: ABOVE.reason });
    expect(planUnverified(input(true, true, ABOVE))).toEqual({ roleId: 'unverified', change: 'remove', blocked: ABOVE.reason });
  });

  test('a role that gained staff powers is taken from linked members but given to nobody', () => {
    expect(planUnverified(input(true, true, REMOVE_ONLY))).toEqual({ roleId: 'unverified', change: 'remove' });
    expect(planUnverified(input(false, false, REMOVE_ONLY))).toEqual({ roleId: 'unverified', change: 'add', blocked: REMOVE_ONLY.reason });
  });

  test('a role a bind also names is left to the binds', () => {
    for (const [linked, has] of [[false, false], [true, true]] as const) {
      expect(planUnverified(input(linked, has, OK, true))).toEqual({ roleId: 'unverified', change: 'none' });
    }
  });

});
