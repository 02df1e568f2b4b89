// Roblox accounts: Open Cloud Get User (the profile "About" text). Usernames: see usernames.ts.

import { z } from 'zod';
import { apiUrl, type RobloxApi } from './api';
import type { Wait } from './budget';
import { robloxCall, type RobloxResult } from './http';

export interface RobloxUser {
  id: string;
  name: string;
  displayName: string;
  about: string;
}

const userBody = z.object({
  id: z.string().regex(/^\d+$/),
  name: z.string(),
  displayName: z.string().optional(),
  about: z.string().optional(),
});

/** A member is waiting on every Get User: `onWait` hears where they stand in the budget's line. */
export async function getUser(api: RobloxApi, robloxUserId: string, onWait?: (wait: Wait) => void): Promise<RobloxResult<RobloxUser>> {
  const url = apiUrl(api.apiBaseUrl, `/cloud/v2/users/${encodeURIComponent(robloxUserId)}`);
  const result = await robloxCall({ url, headers: { 'x-api-key': api.apiKey }, budget: api.budgets.users, keyGuard: api.keyGuard, priority: true, onWait, schema: userBody }, api.http);
  if (!result.ok) return result;
  const { id, name, displayName, about } = result.value;
  return { ok: true, value: { id, name, displayName: displayName ?? name, about: about ?? '' } };
}
