import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { ItemRef } from '../../src/bindings';
import { checkOwnership, PRIVATE_SERVER_REASON } from '../../src/ownership';
import { createRobloxApi, type RobloxApi } from '../../src/roblox/api';
import { ASSET_TYPES } from '../../src/roblox/assettypes';
import { RateBudget } from '../../src/roblox/budget';
import { countCollectibles } from '../../src/roblox/collectibles';
import { buildInventoryFilters, listOwnedItems, MAX_FILTER_LENGTH } from '../../src/roblox/inventory';
import { getUser } from '../../src/roblox/users';
import { type FakeItem, FakeRoblox, parseFilter } from '../fakes/roblox';

describe('buildInventoryFilters', () => {
  test('combines every id field into one id-only filter, without duplicates', () => {
    const items: ItemRef[] = [
      { kind: 'gamepass', itemId: '777777' },
      { kind: 'badge', itemId: '2124445684' },
      { kind: 'asset', itemId: '1' },
      { kind: 'gamepass', itemId: '888888' },
      { kind: 'gamepass', itemId: '777777' },
    ];
    const requests = buildInventoryFilters(items);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.filter).toBe('assetIds=1;badgeIds=2124445684;gamePassIds=777777,888888');
    expect(requests[0]!.items).toHaveLength(4);
    // The fake's parser (the docs' grammar) accepts it as an id-only filter.
    expect(typeof parseFilter(requests[0]!.filter)).toBe('object');
  });

  test('splits only when the ids do not fit one URL, and loses none', () => {
    const items: ItemRef[] = Array.from({ length: 400 }, (_, i) => ({ kind: i % 2 ? 'badge' : 'asset', itemId: String(9_000_000_000_000 + i) }));
    const requests = buildInventoryFilters(items);
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.length).toBeLessThanOrEqual(5);
    for (const r of requests) expect(encodeURIComponent(r.filter).length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(requests.flatMap((r) => r.items.map((i) => i.itemId)).sort()).toEqual(items.map((i) => i.itemId).sort());
  });

  test('private servers have their own field (sent only with a member token)', () => {
    expect(buildInventoryFilters([{ kind: 'privateserver', itemId: '5' }, { kind: 'gamepass', itemId: '6' }])[0]!.filter).toBe('gamePassIds=6;privateServerIds=5');
  });

  test('no items, no requests', () => {
    expect(buildInventoryFilters([])).toEqual([]);
  });
});

describe('Roblox client against the fake', () => {
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
    fake.rateLimit = { perWindow: 100, windowMs: 60_000, sendRetryAfter: true };
    api = createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, badgesBaseUrl: fake.badgesUrl, economyBaseUrl: fake.economyUrl, apiKey: 'key', inventoryPerMinute: 100, http: { timeoutMs: 300, backoffBaseMs: 5, maxRetryWaitMs: 2_000 } });
  });
  afterAll(() => expect(fake.specErrors).toEqual([]));

  const filterFor = (ids: string[]) => `gamePassIds=${ids.join(',')}`;

  test('follows every page and keeps the other parameters identical', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => String(100 + i));
    fake.addUser({ id: '1', name: 'a', items: ids.map((id) => ({ kind: 'gamepass', id })) });
    fake.pageSizeCap = 10; // Roblox may return fewer than asked
    const owned = await listOwnedItems(api, '1', filterFor(ids));
    expect(owned).toEqual({ ok: true, value: new Set(ids.map((id) => `gamepass:${id}`)) });
    const pages = fake.requests.filter((r) => r.route === 'inventory');
    expect(pages).toHaveLength(3);
    expect(pages.every((p) => p.status === 200 && p.query.maxPageSize === '100' && p.query.filter === filterFor(ids))).toBe(true);
  });

  test('a token followed by an empty page ends cleanly', async () => {
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'gamepass', id: '5' }] });
    fake.trailingEmptyPage = true;
    const owned = await listOwnedItems(api, '1', filterFor(['5']));
    expect(owned).toEqual({ ok: true, value: new Set(['gamepass:5']) });
    expect(fake.count('inventory')).toBe(2);
  });

  test('a repeated token is a bad response: the items not yet seen are unknown, never "not owned"', async () => {
    fake.addUser({ id: '1', name: 'a', items: ['1', '2', '3'].map((id) => ({ kind: 'gamepass' as const, id })) });
    fake.pageSizeCap = 1;
    fake.repeatToken = true;
    const owned = await listOwnedItems(api, '1', filterFor(['1', '2', '3']));
    expect(owned).toEqual({ ok: false, failure: { kind: 'bad_response', detail: 'pagination repeated a page token' } });
    expect(fake.count('inventory')).toBe(2); // the second page handed back the token that fetched it
    const report = await checkOwnership(api, '1', ['1', '2', '3'].map((itemId) => ({ kind: 'gamepass' as const, itemId })));
    expect([...report.outcomes.values()].map((o) => o.status)).toEqual(['unknown', 'unknown', 'unknown']);
  });

  test('copies of an asset count once; items not returned are not owned', async () => {
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'asset', id: '9', copies: 3 }] });
    const report = await checkOwnership(api, '1', [
      { kind: 'asset', itemId: '9' },
      { kind: 'badge', itemId: '10' },
    ]);
    expect(report.outcomes.get('asset:9')).toEqual({ status: 'owns' });
    expect(report.outcomes.get('badge:10')).toEqual({ status: 'not_owned' });
    expect(fake.count('inventory')).toBe(1);
  });

  test('private-server items are unknown and never sent with the API key', async () => {
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'privateserver', id: '4' }, { kind: 'gamepass', id: '5' }] });
    const report = await checkOwnership(api, '1', [
      { kind: 'privateserver', itemId: '4' },
      { kind: 'gamepass', itemId: '5' },
    ]);
    expect(report.outcomes.get('privateserver:4')).toEqual({ status: 'unknown', reason: PRIVATE_SERVER_REASON });
    expect(report.outcomes.get('gamepass:5')).toEqual({ status: 'owns' });
    expect(fake.requests.some((r) => r.query.filter?.includes('privateServer'))).toBe(false);
  });

  test.each([
    ['private inventory', () => ({ status: 403, body: { code: 'PERMISSION_DENIED', message: 'no' } }), 'private'],
    ['unknown user', () => ({ status: 404, body: { code: 'NOT_FOUND', message: 'no' } }), 'not_found'],
    ['rejected key (401)', () => ({ status: 401, body: { errors: [{ code: 0, message: 'Invalid API Key' }] } }), 'auth'],
    ['rejected key (gateway body on 403)', () => ({ status: 403, body: { errors: [{ code: 0, message: 'Invalid API Key' }] } }), 'auth'],
    ['server error', () => ({ status: 503, body: { code: 'UNAVAILABLE', message: 'down' } }), 'unavailable'],
    ['malformed JSON', () => ({ status: 200, body: '{"inventoryItems": [' }), 'bad_response'],
    ['wrong shape', () => ({ status: 200, body: { inventoryItems: [{ gamePassDetails: { gamePassId: 'abc' } }] } }), 'bad_response'],
    ['200 without inventoryItems', () => ({ status: 200, body: { nextPageToken: '' } }), 'bad_response'],
    ['200 with an empty object', () => ({ status: 200, body: {} }), 'bad_response'],
    ['timeout', () => ({ hang: true }), 'timeout'],
    ['429 storm without retry-after', () => ({ status: 429, body: { code: 'RESOURCE_EXHAUSTED' } }), 'rate_limited'],
  ] as const)('%s → unknown (%s), never "does not own"', async (_name, fault, kind) => {
    fake.addUser({ id: '1', name: 'a', items: [] });
    fake.fault = fault;
    const report = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '5' }]);
    expect(report.failures.map((f) => f.kind)).toEqual([kind]);
    expect(report.outcomes.get('gamepass:5')?.status).toBe('unknown');
  });

  test('retries a 5xx and succeeds', async () => {
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'gamepass', id: '5' }] });
    let failures = 1;
    fake.fault = () => (failures-- > 0 ? { status: 500, body: { code: 'INTERNAL' } } : undefined);
    const report = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '5' }]);
    expect(report.outcomes.get('gamepass:5')).toEqual({ status: 'owns' });
    expect(fake.count('inventory')).toBe(2);
  });

  test('honours retry-after on 429 and then succeeds', async () => {
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'gamepass', id: '5' }] });
    let failures = 1;
    fake.fault = () => (failures-- > 0 ? { status: 429, body: { code: 'RESOURCE_EXHAUSTED' }, headers: { 'retry-after': '0.3' } } : undefined);
    const started = Date.now();
    const report = await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '5' }]);
    expect(report.outcomes.get('gamepass:5')).toEqual({ status: 'owns' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('stays inside the budget: a fake enforcing the same limit sends no 429', async () => {
    fake.rateLimit = { perWindow: 5, windowMs: 400, sendRetryAfter: true };
    fake.apiKeys.set('fresh-key', 'fresh-owner'); // a quota no earlier test has spent
    api = createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, badgesBaseUrl: fake.badgesUrl, economyBaseUrl: fake.economyUrl, apiKey: 'fresh-key', inventoryPerMinute: 5, windowMs: 400, http: { timeoutMs: 1_000, backoffBaseMs: 5 } });
    fake.addUser({ id: '1', name: 'a', items: [{ kind: 'gamepass', id: '5' }] });
    const results = await Promise.all(Array.from({ length: 12 }, () => checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '5' }])));
    expect(results.every((r) => r.outcomes.get('gamepass:5')?.status === 'owns')).toBe(true);
    expect(fake.count('inventory', 429)).toBe(0);
    expect(fake.count('inventory', 200)).toBe(12);
  });

  test('Get User and username lookup', async () => {
    fake.addUser({ id: '156', name: 'builderman', previousNames: ['oldname'], about: 'hello' });
    expect(await getUser(api, '156')).toEqual({ ok: true, value: { id: '156', name: 'builderman', displayName: 'builderman', about: 'hello' } });
    expect((await getUser(api, '999')).ok).toBe(false);
    // Asked at once, the three names go in one request, and each ask gets its own answer.
    const [current, previous, unknown] = await Promise.all(['BUILDERMAN', 'oldname', 'nobody'].map((name, i) => api.names.find(`member-${i}`, name)));
    expect(current).toEqual({ kind: 'found', id: '156', name: 'builderman' });
    expect(previous).toEqual({ kind: 'found', id: '156', name: 'builderman' });
    expect(unknown).toEqual({ kind: 'unknown' });
    expect(fake.count('usernames')).toBe(1);
  });

  test('the API key is sent only as a header, never in the URL', async () => {
    fake.addUser({ id: '1', name: 'a' });
    await checkOwnership(api, '1', [{ kind: 'gamepass', itemId: '5' }]);
    await getUser(api, '1');
    expect(fake.requests.every((r) => r.hadApiKey && !JSON.stringify(r.query).includes('key'))).toBe(true);
  });

  describe('counting collectibles', () => {

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
});
