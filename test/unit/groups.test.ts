// The Open Cloud groups client against the fake Roblox: memberships for 50 users a request, roles
// per group with their ranks (cached), group names, and every way an answer can fail.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type Clock, systemClock } from '../../src/clock';
import { createRobloxApi, type RobloxApi } from '../../src/roblox/api';
import { lookupGroupName, readMemberships, readRoleRanks, ROLES_TTL_MS } from '../../src/roblox/groups';
import { groupReads } from '../../src/sync/groupread';
import { FakeRoblox } from '../fakes/roblox';

const fake = new FakeRoblox();
let api: RobloxApi;
let now = 1_000_000;
const clock: Clock = { now: () => now, sleep: systemClock.sleep };

beforeAll(async () => {
  fake.apiKeys.set('key', 'owner');
  await fake.start();
});
afterAll(async () => {
  expect(fake.specErrors).toEqual([]);
  await fake.close();
});
beforeEach(() => {
  fake.groups.clear();
  fake.requests.length = 0;
  fake.fault = undefined;
  fake.trailingEmptyPage = false;
  fake.repeatToken = false;
  api = createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, badgesBaseUrl: fake.badgesUrl, economyBaseUrl: fake.economyUrl, apiKey: 'key', inventoryPerMinute: 100, http: { timeoutMs: 2_000, backoffBaseMs: 5, maxRetryWaitMs: 2_000, clock } });
});

const memberships = () => fake.requests.filter((r) => r.route === 'groupMemberships');
/** The api's rate window (a minute by default): how soon roles are read again after a miss or a failure. */
const ROLES_RECHECK_MS = 60_000;
const users = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

describe('readMemberships', () => {
  test('one request for 50 users across every group; the highest of several roles; pages of 100 followed with the same parameters', async () => {
    // 30 groups × 50 members: 1,500 memberships, 15 pages.
    for (let g = 1; g <= 30; g++) {
      fake.addGroup(String(100 + g), `Group ${g}`, [1, 50, 200]);
      for (const user of users(50)) fake.setRanks(String(100 + g), user, [1]);
    }
    fake.setRanks('101', '7', [1, 200, 50]);
    fake.addUser({ id: '999', name: 'outsider' });
    fake.setRanks('101', '999', [255]); // not asked about: never in the answer
    const read = await readMemberships(api, users(50));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.size).toBe(50);
    expect(read.value.get('7')!.get('101')).toBe(fake.roleId('101', 200));
    expect(read.value.get('8')!.get('101')).toBe(fake.roleId('101', 1));
    expect(read.value.get('7')!.size).toBe(30);
    const pages = memberships();
    expect(pages).toHaveLength(15);
    expect(new Set(pages.map((p) => `${p.path} ${p.query.filter} ${p.query.maxPageSize}`)).size).toBe(1);
    expect(pages[0]!.path).toBe('/cloud/v2/groups/-/memberships');
    expect(pages[0]!.query.filter).toBe(`user in [${users(50).map((u) => `'users/${u}'`).join(', ')}]`);
    expect(pages.every((p) => p.hadApiKey && p.status === 200)).toBe(true);
  });

  test('a user in no group is in the answer with no groups; more than 50 users is refused before anything is sent', async () => {
    fake.addGroup('101', 'G');
    const read = await readMemberships(api, ['5']);
    expect(read).toEqual({ ok: true, value: new Map([['5', new Map()]]) });
    await expect(readMemberships(api, users(51))).rejects.toThrow('at most 50 users');
    expect(memberships()).toHaveLength(1);
  });

  test('the fake enforces the documented limits: 50 users in the filter, a user filter with the wildcard', async () => {
    const url = (filter?: string) => `${fake.url}/cloud/v2/groups/-/memberships?maxPageSize=100${filter === undefined ? '' : `&filter=${encodeURIComponent(filter)}`}`;
    const status = async (filter?: string) => (await fetch(url(filter), { headers: { 'x-api-key': 'key' } })).status;
    expect(await status()).toBe(400);
    expect(await status(`user in [${users(51).map((u) => `'users/${u}'`).join(', ')}]`)).toBe(400);
    expect(await status(`user in [${users(50).map((u) => `'users/${u}'`).join(', ')}]`)).toBe(200);
    expect((await fetch(`${fake.url}/cloud/v2/groups/555/roles`, { headers: { 'x-api-key': 'key' } })).status).toBe(404);
  });

  test.each([
    ['a 5xx, after its retries', () => ({ status: 503, body: '' }), 'unavailable'],
    ['a 200 without groupMemberships', () => ({ status: 200, body: { nextPageToken: '' } }), 'bad_response'],
    ['a 200 that is not JSON', () => ({ status: 200, body: '<html>' }), 'bad_response'],
    ['a role path that is not one', () => ({ status: 200, body: { groupMemberships: [{ user: 'users/1', role: 'owner' }] } }), 'bad_response'],
    ['a membership of a user nobody asked about', () => ({ status: 200, body: { groupMemberships: [{ user: 'users/77', role: 'groups/1/roles/2' }] } }), 'bad_response'],
    ['a hang', () => ({ hang: true }), 'timeout'],
    ['a 429 that asks for longer than the bot will wait', () => ({ status: 429, body: {}, headers: { 'retry-after': '3600' } }), 'rate_limited'],
  ])('%s fails the whole read', async (_name, fault, kind) => {
    fake.fault = (route) => (route === 'groupMemberships' ? fault() : undefined);
    const read = await readMemberships(api, ['1', '2']);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.failure.kind).toBe(kind);
  });

  test('a 429 with retry-after is waited out and retried', async () => {
    fake.addGroup('101', 'G');
    fake.setRanks('101', '1', [255]);
    let calls = 0;
    fake.fault = (route) => (route === 'groupMemberships' && calls++ === 0 ? { status: 429, body: {}, headers: { 'retry-after': '0.2' } } : undefined);
    const started = Date.now();
    // Real time here: the budget's pause is measured on the clock.
    const read = await readMemberships(createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, badgesBaseUrl: fake.badgesUrl, economyBaseUrl: fake.economyUrl, apiKey: 'key', inventoryPerMinute: 100 }), ['1']);
    expect(read.ok && read.value.get('1')!.get('101')).toBe(fake.roleId('101', 255));
    expect(memberships().map((r) => r.status)).toEqual([429, 200]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('a repeated page token, or pages that never end, fail the read; a token followed by an empty page ends it', async () => {
    for (const g of ['101', '102', '103']) {
      fake.addGroup(g, 'G');
      for (const user of users(50)) fake.setRanks(g, user, [1]);
    }
    fake.repeatToken = true;
    const repeated = await readMemberships(api, users(50));
    expect(!repeated.ok && repeated.failure.detail).toBe('pagination repeated a page token');
    fake.repeatToken = false;
    fake.trailingEmptyPage = true;
    const trailing = await readMemberships(api, users(50));
    expect(trailing.ok && trailing.value.get('50')!.size).toBe(3);
  });
});

describe('roles and ranks', () => {
  test('every page of roles (20 a page) with their ranks, the Guest role included', async () => {
    fake.addGroup('300', 'Big', Array.from({ length: 30 }, (_, i) => i + 1));
    const ranks = await readRoleRanks(api, '300');
    expect(ranks.ok && ranks.value.size).toBe(31);
    expect(ranks.ok && ranks.value.get(fake.roleId('300', 0))).toBe(0);
    expect(ranks.ok && ranks.value.get(fake.roleId('300', 30))).toBe(30);
    const pages = fake.requests.filter((r) => r.route === 'groupRoles');
    expect(pages.map((p) => p.query.maxPageSize)).toEqual(['20', '20']);
  });

  test('cached for a day; read again when forgotten, when a role is missing (at most once a minute), and after a failure only a minute later', async () => {
    fake.addGroup('300', 'G', [1, 10]);
    const roleReads = () => fake.requests.filter((r) => r.route === 'groupRoles').length;
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 10))).toEqual({ ok: true, value: 10 });
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 1))).toEqual({ ok: true, value: 1 });
    expect(roleReads()).toBe(1);
    // A role created since the read: one more read finds it (once the read is a minute old).
    fake.groups.get('300')!.roles.set(fake.roleId('300', 20), { name: 'New', rank: 20 });
    expect((await api.groupRoles.rankOf('300', fake.roleId('300', 20))).ok).toBe(false);
    expect(roleReads()).toBe(1);
    now += ROLES_RECHECK_MS;
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 20))).toEqual({ ok: true, value: 20 });
    expect(roleReads()).toBe(2);
    // A role Roblox does not list: unknown, and not asked about again within the minute.
    now += ROLES_RECHECK_MS;
    expect((await api.groupRoles.rankOf('300', '424242')).ok).toBe(false);
    expect((await api.groupRoles.rankOf('300', '424242')).ok).toBe(false);
    expect(roleReads()).toBe(3);
    // Owners re-rank: seen after a day, or at once when binds change (forget).
    fake.groups.get('300')!.roles.get(fake.roleId('300', 10))!.rank = 12;
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 10))).toEqual({ ok: true, value: 10 });
    now += ROLES_TTL_MS;
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 10))).toEqual({ ok: true, value: 12 });
    api.groupRoles.forget('300');
    fake.fault = () => ({ status: 500, body: '' });
    expect((await api.groupRoles.rankOf('300', fake.roleId('300', 10))).ok).toBe(false);
    const afterFailure = roleReads();
    expect((await api.groupRoles.rankOf('300', fake.roleId('300', 10))).ok).toBe(false);
    expect(roleReads()).toBe(afterFailure);
    fake.fault = undefined;
    now += ROLES_RECHECK_MS;
    expect(await api.groupRoles.rankOf('300', fake.roleId('300', 10))).toEqual({ ok: true, value: 12 });
  });
});

describe('a batch\'s group reads', () => {
  test('fifty members a request, each member\'s highest rank per bound group, 0 outside it; an account linked since is read on its own', async () => {
    fake.addGroup('400', 'G', [1, 100, 200]);
    fake.addGroup('401', 'H', [1]);
    for (const user of users(60)) fake.setRanks('400', user, [1]);
    fake.setRanks('400', '3', [100, 200]);
    fake.setRanks('401', '3', [1]);
    const reads = groupReads(api, users(60), false);
    const all = await Promise.all(users(60).map((u) => reads.ranks(u, new Set(['400', '401']))));
    expect(all[2]!.ranks).toEqual(new Map([['400', { status: 'ranked', rank: 200 }], ['401', { status: 'ranked', rank: 1 }]]));
    expect(all[0]!.ranks).toEqual(new Map([['400', { status: 'ranked', rank: 1 }], ['401', { status: 'ranked', rank: 0 }]]));
    expect(memberships()).toHaveLength(2);
    await reads.ranks('777', new Set(['400']));
    expect(memberships()).toHaveLength(3);
    expect(memberships()[2]!.query.filter).toBe("user in ['users/777']");
  });

  test('a failed read makes every group of those members unknown, with the reason', async () => {
    fake.addGroup('400', 'G');
    fake.fault = (route) => (route === 'groupMemberships' ? { status: 200, body: '{"groupMemberships": "nope"}' } : undefined);
    const report = await groupReads(api, ['1'], false).ranks('1', new Set(['400']));
    expect(report.ranks.get('400')).toEqual({ status: 'unknown', reason: 'Roblox sent an answer the bot could not read' });
    expect(report.failures[0]!.kind).toBe('bad_response');
  });
});

describe('lookupGroupName', () => {
  test('the name, a missing group, and "could not ask"', async () => {
    fake.addGroup('500', 'Knights **of** <@1>');
    expect(await lookupGroupName(api, '500')).toEqual({ kind: 'named', name: 'Knights **of** <@1>' });
    expect(await lookupGroupName(api, '501')).toEqual({ kind: 'missing', detail: 'HTTP 404' });
    fake.fault = (route) => (route === 'group' ? { status: 503, body: '' } : undefined);
    expect((await lookupGroupName(api, '500', { interactive: true })).kind).toBe('unknown');
    expect(fake.requests.filter((r) => r.route === 'group').every((r) => r.hadApiKey)).toBe(true);
  });
});
