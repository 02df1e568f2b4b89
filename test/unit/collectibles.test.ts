import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { checkOwnership } from '../../src/ownership';
import { createRobloxApi, type RobloxApi } from '../../src/roblox/api';
import { ASSET_TYPES } from '../../src/roblox/assettypes';
import { RateBudget } from '../../src/roblox/budget';
import { collectibleFilter, countCollectibles } from '../../src/roblox/collectibles';
import { type FakeItem, FakeRoblox, parseFilter } from '../fakes/roblox';
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

describe('counting collectibles against the fake', () => {
  const fake = new FakeRoblox();
  let api: RobloxApi;
  beforeAll(async () => {
    fake.apiKeys.set('key', 'owner');
    await fake.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.users.clear();
    fake.requests.length = 0;
    fake.fault = undefined;
    fake.trailingEmptyPage = false;
    fake.repeatToken = false;
    fake.pageSizeCap = 100;
    api = createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, apiKey: 'key', inventoryPerMinute: 6_000, http: { timeoutMs: 300, backoffBaseMs: 5, maxRetryWaitMs: 2_000 } });
  });
  afterAll(() => expect(fake.specErrors).toEqual([]));

  const limited = (id: number, assetType: string, copies = 1): FakeItem => ({ kind: 'asset', id: String(id), assetType, collectible: true, copies });
  const collector = (n: number, assetType = 'HAT') => Array.from({ length: n }, (_, i) => limited(50_000 + i, assetType));
  const inventory = () => fake.requests.filter((r) => r.route === 'inventory');

  test('counts each copy by asset type, ignoring items that are not collectibles, in one request', async () => {
    fake.addUser({
      id: '1',
      name: 'a',
      items: [limited(1, 'HAT', 2), limited(2, 'FACE'), limited(3, 'GEAR'), { kind: 'asset', id: '4', assetType: 'HAT' }, { kind: 'badge', id: '5' }, { kind: 'gamepass', id: '6' }],
    });
    const counted = await countCollectibles(api, '1', new Map([['*', 1], ['FACE,HAT', 1], ['HAT', 1], ['GEAR', 5]]));
    expect(counted).toEqual({
      ok: true,
      value: new Map([
        ['*', { count: 4, complete: true }],
        ['FACE,HAT', { count: 3, complete: true }],
        ['HAT', { count: 2, complete: true }],
        ['GEAR', { count: 1, complete: true }],
      ]),
    });
    expect(inventory()).toHaveLength(1);
    expect(inventory()[0]!.query.filter).toBe(`onlyCollectibles=true;inventoryItemAssetTypes=${ASSET_TYPES.join(',')}`);
  });

  test('a page per hundred, and no more pages once every set has what the binds need', async () => {
    fake.addUser({ id: '1', name: 'a', items: collector(250) });
    expect(await countCollectibles(api, '1', new Map([['HAT', 1_000]]))).toEqual({ ok: true, value: new Map([['HAT', { count: 250, complete: true }]]) });
    expect(inventory()).toHaveLength(3);
    fake.requests.length = 0;
    expect(await countCollectibles(api, '1', new Map([['HAT', 150]]))).toEqual({ ok: true, value: new Map([['HAT', { count: 200, complete: false }]]) });
    expect(inventory()).toHaveLength(2);
    expect(inventory().every((r) => r.query.maxPageSize === '100')).toBe(true);
  });

  test('a token followed by an empty page ends the list', async () => {
    fake.addUser({ id: '1', name: 'a', items: collector(100) });
    fake.trailingEmptyPage = true;
    expect(await countCollectibles(api, '1', new Map([['*', 500]]))).toEqual({ ok: true, value: new Map([['*', { count: 100, complete: true }]]) });
    expect(inventory()).toHaveLength(2);
  });

  // Faults on the collectible listing only, except a private inventory, which hides both.
  const onCollectibles = (body: unknown) => () => (fake.fault = (route) => (route === 'inventory' && fake.requests.at(-1)?.query.filter?.startsWith('onlyCollectibles') ? { status: 200, body } : undefined));
  test.each<[string, () => void, boolean]>([
    ['a repeated page token', () => ((fake.pageSizeCap = 1), (fake.repeatToken = true)), true],
    ['a 200 without inventoryItems', onCollectibles({ nextPageToken: '' }), true],
    ['a collectible without its asset type', onCollectibles({ inventoryItems: [{ assetDetails: { assetId: '1', collectibleDetails: {} } }] }), true],
    ['a private inventory', () => (fake.users.get('1')!.inventoryPublic = false), false],
  ])('%s makes every collectible count unknown', async (_name, arrange, itemsOk) => {
    fake.addUser({ id: '1', name: 'a', items: [...collector(3), { kind: 'gamepass', id: '9' }] });
    arrange();
    const report = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '9' }], { collectibles: new Map([['*', 1], ['HAT', 2]]) });
    expect(report.tallies.get('*')?.status).toBe('unknown');
    expect(report.tallies.get('HAT')?.status).toBe('unknown');
    expect(report.failures.some((f) => f.detail.startsWith('collectibles: ') || f.kind === 'private')).toBe(true);
    expect(report.outcomes.get('gamepass:9')?.status).toBe(itemsOk ? 'owns' : 'unknown');
  });

  test('members whose binds ask for no collectibles cost one request; those that do, one more', async () => {
    fake.addUser({ id: '1', name: 'a', items: [...collector(3), { kind: 'gamepass', id: '9' }] });
    const plain = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '9' }]);
    expect(plain.tallies.size).toBe(0);
    expect(inventory()).toHaveLength(1);
    fake.requests.length = 0;
    const both = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '9' }], { collectibles: new Map([['HAT', 2]]) });
    expect(both.tallies.get('HAT')).toEqual({ status: 'counted', count: 3, complete: true }); // the last page: nothing left unread
    expect(inventory().map((r) => r.query.filter)).toEqual(['gamePassIds=9', 'onlyCollectibles=true;inventoryItemAssetTypes=HAT']);
    // Only collectibles asked about: the one collectible request and nothing else.
    fake.requests.length = 0;
    await checkOwnership(api, '1', [], { collectibles: new Map([['HAT', 2]]) });
    expect(inventory()).toHaveLength(1);
  });

  test('a member\'s own token reads every type with `*`, which the fake refuses the API key', async () => {
    fake.addUser({ id: '1', name: 'a', items: [...collector(2), limited(7, 'FACE')] });
    fake.oauth.accessTokens.set('tok', { userId: '1', scopes: ['openid', 'user.inventory-item:read'], expiresAt: Date.now() + 60_000, family: 'f' });
    const token = { accessToken: 'tok', budget: new RateBudget(20, 60_000) };
    expect(await countCollectibles(api, '1', new Map([['*', 10]]), false, token)).toEqual({ ok: true, value: new Map([['*', { count: 3, complete: true }]]) });
    expect(inventory()[0]!.query.filter).toBe('onlyCollectibles=true;inventoryItemAssetTypes=*');
    // The same filter with the key is what the scope rule forbids.
    const keyed = await fetch(`${fake.url}/cloud/v2/users/1/inventory-items?filter=${encodeURIComponent('onlyCollectibles=true;inventoryItemAssetTypes=*')}`, { headers: { 'x-api-key': 'key' } });
    expect(keyed.status).toBe(403);
  });
});
