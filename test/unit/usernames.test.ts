// The batched username lookup against the fake Roblox; the first request is held, so the line that
// forms behind it is the test's, not the scheduler's.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRobloxApi } from '../../src/roblox/api';
import type { Wait } from '../../src/roblox/budget';
import { FakeRoblox, gate } from '../fakes/roblox';

const fake = new FakeRoblox();
beforeAll(() => fake.start());
afterAll(async () => {
  expect(fake.specErrors).toEqual([]);
  await fake.close();
});

function setUp() {
  fake.usernameRequests.length = 0;
  const held = gate();
  let first = true;
  fake.fault = (route) => {
    if (route !== 'usernames' || !first) return undefined;
    first = false;
    return { hold: held.promise };
  };
  // A request every 10 ms at most: the line, not the pacing, decides what goes together.
  const api = createRobloxApi({ apiBaseUrl: fake.url, usersBaseUrl: fake.url, badgesBaseUrl: fake.badgesUrl, economyBaseUrl: fake.economyUrl, apiKey: 'key', inventoryPerMinute: 100, usernamesPerMinute: 6_000, http: { timeoutMs: 10_000, backoffBaseMs: 5 } });
  return { api, release: held.release };
}

test('a line of 250 names goes as requests of at most 100, in line order, each name once', async () => {
  for (let i = 0; i < 250; i++) fake.addUser({ id: String(100 + i), name: `Name${i}` });
  const { api, release } = setUp();
  const opener = api.names.find('opener', 'Name0');
  await until(() => fake.usernameRequests.length === 1);
  const places: Wait[] = [];
  // Two members ask for the same name: it is sent once and answers both.
  const asks = Array.from({ length: 250 }, (_, i) => api.names.find(`member-${i}`, `Name${i}`, i === 249 ? (w) => places.push(w) : undefined));
  const twin = api.names.find('twin', 'name5');
  expect(places.at(-1)).toMatchObject({ position: 250 });
  expect(places.at(-1)!.etaMs).toBeGreaterThan(0);
  release();
  const answers = await Promise.all(asks);
  expect(answers.map((a) => (a.kind === 'found' ? a.id : a.kind))).toEqual(Array.from({ length: 250 }, (_, i) => String(100 + i)));
  expect(await twin).toEqual({ kind: 'found', id: '105', name: 'Name5' });
  expect(await opener).toMatchObject({ kind: 'found', id: '100' });
  expect(fake.usernameRequests.map((names) => names.length)).toEqual([1, 100, 100, 50]);
  expect(fake.usernameRequests.slice(1).flat()).toEqual(Array.from({ length: 250 }, (_, i) => `Name${i}`));
  // The last in line heard each place as the line moved, down to being asked.
  expect(places.map((w) => w.position).filter((p, i, all) => p !== all[i - 1])).toEqual([250, 150, 50, 0]);
});

test('asking again while in line keeps the place with the newest name; the earlier ask is told it was replaced', async () => {
  fake.addUser({ id: '900', name: 'Right' });
  fake.addUser({ id: '901', name: 'Ahead' });
  const { api, release } = setUp();
  const opener = api.names.find('opener', 'Ahead');
  await until(() => fake.usernameRequests.length === 1);
  const ahead = api.names.find('ahead', 'Ahead');
  const typo = api.names.find('member', 'Wrnog');
  const places: Wait[] = [];
  const fixed = api.names.find('member', 'Right', (w) => places.push(w));
  expect(await typo).toEqual({ kind: 'replaced' });
  expect(places[0]).toMatchObject({ position: 2 }); // still behind "ahead", not behind itself
  release();
  expect(await fixed).toEqual({ kind: 'found', id: '900', name: 'Right' });
  await Promise.all([opener, ahead]);
  expect(fake.usernameRequests[1]).toEqual(['Ahead', 'Right']);
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}
