import { describe, expect, test } from 'vitest';
import { type Bind, MAX_BINDS_PER_SERVER, MAX_ITEMS_PER_SERVER, storedBind } from '../../src/bindings';
import { checkServerLimits, readBindRequest } from '../../src/bindrequest';

describe('readBindRequest', () => {
  test('every existing kind reads as before', () => {
    expect(readBindRequest({ kind: 'gamepass', roleId: 'r', id: 5 })).toEqual({ roleId: 'r', kind: 'gamepass', itemId: '5' });
    expect(readBindRequest({ kind: 'verified', roleId: 'r' })).toEqual({ roleId: 'r', kind: 'verified', itemId: '' });
  });

  test('a collectible bind: count 1 and every type unless told; names checked one by one', () => {
    expect(readBindRequest({ kind: 'collectible', roleId: 'r' })).toMatchObject({ kind: 'collectible', itemId: 'collectibles>=1' });
    expect(readBindRequest({ kind: 'collectible', roleId: 'r', count: 4, assetTypes: ' face ,Hat,HAT' })).toMatchObject({ itemId: 'collectibles(FACE,HAT)>=4' });
    expect(readBindRequest({ kind: 'collectible', roleId: 'r', assetTypes: '*' })).toMatchObject({ itemId: 'collectibles>=1' });
    expect(() => readBindRequest({ kind: 'collectible', roleId: 'r', assetTypes: 'HAT,INVENTORY_ITEM_ASSET_TYPE_UNSPECIFIED' })).toThrow(/`INVENTORY_ITEM_ASSET_TYPE_UNSPECIFIED` cannot be used: it is the enum's "no type" default/);
  });

  test('a group bind: any member by default, `max-rank:0` alone is "not in the group", a reversed range refused', () => {
    expect(readBindRequest({ kind: 'group', roleId: 'r', id: 35 })).toMatchObject({ kind: 'group', itemId: 'group:35', rule: { atom: { type: 'group', groupId: '35', min: 1, max: 255 } } });
    expect(readBindRequest({ kind: 'group', roleId: 'r', id: 35, minRank: 200 })).toMatchObject({ itemId: 'group:35>=200' });
    expect(readBindRequest({ kind: 'group', roleId: 'r', id: 35, maxRank: 0 })).toMatchObject({ itemId: 'group:35<=0', rule: { atom: { min: 0, max: 0 } } });
    expect(readBindRequest({ kind: 'group', roleId: 'r', id: 35, maxRank: 100 })).toMatchObject({ itemId: 'group:35<=100', rule: { atom: { min: 1, max: 100 } } });
    expect(readBindRequest({ kind: 'group', roleId: 'r', id: 35, minRank: 0, maxRank: 255 })).toMatchObject({ itemId: 'group:35>=0' });
    expect(() => readBindRequest({ kind: 'group', roleId: 'r', id: 35, minRank: 10, maxRank: 5 })).toThrow('`min-rank` (10) is above `max-rank` (5): no member could ever have that role.');
    expect(() => readBindRequest({ kind: 'group', roleId: 'r', id: 35, minRank: 256 })).toThrow('`min-rank` must be a whole number from 0 to 255.');
    expect(() => readBindRequest({ kind: 'group', roleId: 'r' })).toThrow(/needs the `id` of the Roblox group/);
    expect(() => readBindRequest({ kind: 'badge', roleId: 'r', id: 1, minRank: 5 })).toThrow('A badge bind takes no `min-rank`.');
    expect(() => readBindRequest({ kind: 'group', roleId: 'r', id: 1, count: 5 })).toThrow('A group rank bind takes no `count`.');
  });

  test('options that belong to another kind are refused by name', () => {
    expect(() => readBindRequest({ kind: 'rule', roleId: 'r', rule: 'verified', count: 2 })).toThrow('A rule bind takes no `count`.');
    expect(() => readBindRequest({ kind: 'badge', roleId: 'r', id: 1, assetTypes: 'HAT' })).toThrow('A badge bind takes no `asset-types`.');
  });
});

describe('stored binds', () => {
  test('a rule row reads back as the rule, shown as written; a row no command could write is skipped', () => {
    expect(storedBind({ roleId: 'r', kind: 'rule', itemId: 'badge:1 or badge:2', expression: 'BADGE:1 OR badge:2' })).toMatchObject({ kind: 'rule', written: 'BADGE:1 OR badge:2', rule: { op: 'or' } });
    expect(storedBind({ roleId: 'r', kind: 'rule', itemId: 'badge:', expression: null })).toBeUndefined();
    expect(storedBind({ roleId: 'r', kind: 'collectible', itemId: 'badge:1', expression: null })).toBeUndefined();
    expect(storedBind({ roleId: 'r', kind: 'group', itemId: '1', expression: null })).toBeUndefined();
    expect(storedBind({ roleId: 'r', kind: 'group', itemId: 'badge:1', expression: null })).toBeUndefined();
    expect(storedBind({ roleId: 'r', kind: 'group', itemId: 'group:35>=5', expression: null, name: 'Guild' })).toMatchObject({ kind: 'group', name: 'Guild', rule: { atom: { groupId: '35', min: 5 } } });
  });
});

describe('checkServerLimits', () => {
  const pass = (i: number): Bind => ({ roleId: 'r', kind: 'gamepass', itemId: String(i) });
  test(`at most ${MAX_BINDS_PER_SERVER} binds, and at most ${MAX_ITEMS_PER_SERVER} items across binds and rules`, () => {
    expect(() => checkServerLimits(Array.from({ length: MAX_BINDS_PER_SERVER }, (_, i) => pass(i)), pass(1_000))).toThrow(/already has 100 binds/);
    const existing = Array.from({ length: 98 }, (_, i) => pass(i + 1));
    expect(() => checkServerLimits(existing, readBindRequest({ kind: 'rule', roleId: 'r', rule: 'badge:1 or badge:2' }))).not.toThrow();
    expect(() => checkServerLimits(existing, readBindRequest({ kind: 'rule', roleId: 'r', rule: 'badge:1 or badge:2 or badge:3' }))).toThrow(/would name 101 different items; at most 100/);
    // Items the server already names cost nothing more.
    expect(() => checkServerLimits(existing, readBindRequest({ kind: 'rule', roleId: 'r', rule: 'gamepass:1 and not gamepass:2 and collectibles>=5' }))).not.toThrow();
  });
});
