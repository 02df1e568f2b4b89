import { expect, test } from 'vitest';
import type { Database } from '../../src/database/client';
import { createLogger } from '../../src/log';
import { createGrants, MAX_MEMBERS_IN_MEMORY } from '../../src/oauth/grants';
import type { RobloxApi } from '../../src/roblox/api';
import { INVENTORY_SCOPE } from '../../src/roblox/oauth';

test('the access-token cache keeps at most MAX_MEMBERS_IN_MEMORY members, dropping the least recently used', async () => {
  const asked: string[] = [];
  // Only what the cache touches: a stored consent is written, a miss reads the consent (none here).
  const db = { oAuthGrant: { upsert: async () => undefined, findUnique: async ({ where }: { where: { discordUserId: string } }) => (asked.push(where.discordUserId), null) } } as unknown as Database;
  const grants = createGrants({ db, roblox: {} as RobloxApi, log: createLogger('fatal'), clock: { now: () => 0, sleep: async () => undefined }, settings: { client: { clientId: 'c', clientSecret: 's', redirectUri: 'http://x' }, tokenKey: Buffer.alloc(32) } });
  const tokens = (i: number) => ({ accessToken: `at-${i}`, refreshToken: `rt-${i}`, expiresAt: 3_600_000, scopes: [INVENTORY_SCOPE] });
  for (let i = 0; i <= MAX_MEMBERS_IN_MEMORY; i++) await grants.store(db, `m${i}`, `r${i}`, tokens(i));

  expect(await grants.access(`m${MAX_MEMBERS_IN_MEMORY}`, `r${MAX_MEMBERS_IN_MEMORY}`)).toMatchObject({ kind: 'token', token: { accessToken: `at-${MAX_MEMBERS_IN_MEMORY}` } });
  expect(await grants.access('m1', 'r1')).toMatchObject({ kind: 'token', token: { accessToken: 'at-1' } });
  expect(asked).toEqual([]);
  // The first stored was the least recently used: gone from memory, so its consent is read again.
  expect(await grants.access('m0', 'r0')).toMatchObject({ kind: 'key' });
  expect(asked).toEqual(['m0']);
});
