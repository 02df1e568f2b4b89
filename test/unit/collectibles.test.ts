// Counting against the fake is in inventory.test.ts, with the rest of the Roblox client.

import { describe, expect, test } from 'vitest';
import { ASSET_TYPES } from '../../src/roblox/assettypes';
import { collectibleFilter } from '../../src/roblox/collectibles';
import { parseFilter } from '../fakes/roblox';
import { robloxSpec } from '../fakes/spec';

describe('the fake reads type filters as the docs describe', () => {
  test.each([
    'gamePasses=true;badges=true',
    'inventoryItemAssetTypes=HAT,CLASSIC_PANTS,TSHIRT_ACCESSORY;gamePasses=true;badges=false',
    'onlyCollectibles=true;inventoryItemAssetTypes=*',
    'onlyCollectibles=true;inventoryItemAssetTypes=HAT,FACE',
  ])('accepts the documented %s', (filter) => {
    expect(typeof parseFilter(filter)).toBe('object');
  });

  test.each([
    ['a type field mixed with an id field', 'gamePassIds=777777;badges=true'],
    ['an asset type outside the enum', 'inventoryItemAssetTypes=HAT,SOCKS'],
    ['onlyCollectibles without asset types', 'onlyCollectibles=true'],
    ['a boolean that is not true or false', 'badges=yes'],
    ['`*` among names', 'inventoryItemAssetTypes=*,HAT'],
  ])('refuses %s', (_name, filter) => {
    expect(parseFilter(filter)).toBe('The provided filter is invalid.');
  });

  test('purchased places (and, as the docs presume, `*`) need the inventory scope', () => {
    expect(parseFilter('inventoryItemAssetTypes=PURCHASED_PLACE')).toMatchObject({ needsScope: true });
    expect(parseFilter('onlyCollectibles=true;inventoryItemAssetTypes=*')).toMatchObject({ needsScope: true });
    expect(parseFilter('onlyCollectibles=true;inventoryItemAssetTypes=*', false)).toMatchObject({ needsScope: false });
    expect(parseFilter('onlyCollectibles=true;inventoryItemAssetTypes=HAT')).toMatchObject({ needsScope: false });
  });

  test('the bot\'s asset types are the spec\'s enum, less the two it refuses', () => {
    expect([...ASSET_TYPES, 'INVENTORY_ITEM_ASSET_TYPE_UNSPECIFIED', 'PURCHASED_PLACE'].sort()).toEqual([...robloxSpec.assetTypes].sort());
  });
});

describe('collectibleFilter', () => {
  test('the union of the sets asked about, or every type', () => {
    expect(collectibleFilter(['HAT', 'FACE,HAT'], false)).toBe('onlyCollectibles=true;inventoryItemAssetTypes=FACE,HAT');
    expect(collectibleFilter(['*', 'HAT'], true)).toBe('onlyCollectibles=true;inventoryItemAssetTypes=*');
    // With the API key, `*` would need the member's consent: every type but purchased places, by name.
    const keyed = collectibleFilter(['*'], false);
    expect(keyed).toBe(`onlyCollectibles=true;inventoryItemAssetTypes=${ASSET_TYPES.join(',')}`);
    expect(keyed).not.toContain('PURCHASED_PLACE');
    expect(parseFilter(keyed)).toMatchObject({ needsScope: false, onlyCollectibles: true });
    expect(encodeURIComponent(keyed).length).toBeLessThan(1_600);
  });
});
