// Roblox accounts: Open Cloud Get User (the profile "About" text) and the legacy username lookup.

import { z } from 'zod';
import { apiUrl, type RobloxApi } from './api';
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

export async function getUser(api: RobloxApi, robloxUserId: string): Promise<RobloxResult<RobloxUser>> {
  const url = apiUrl(api.apiBaseUrl, `/cloud/v2/users/${encodeURIComponent(robloxUserId)}`);
  const result = await robloxCall({ url, headers: { 'x-api-key': api.apiKey }, budget: api.budgets.users, keyGuard: api.keyGuard, priority: true, schema: userBody }, api.http);
  if (!result.ok) return result;
  const { id, name, displayName, about } = result.value;
  return { ok: true, value: { id, name, displayName: displayName ?? name, about: about ?? '' } };
}

const usernamesBody = z.object({
  data: z.array(z.object({ requestedUsername: z.string(), id: z.number().int().positive(), name: z.string() })),
});

/** The user id for a current or previous username, or null when Roblox knows no such name. */
export async function findUserIdByName(api: RobloxApi, username: string): Promise<RobloxResult<string | null>> {
  const url = apiUrl(api.usersBaseUrl, '/v1/usernames/users');
  const result = await robloxCall(
    { url, method: 'POST', body: { usernames: [username], excludeBannedUsers: true }, budget: api.budgets.usernames, schema: usernamesBody },
    api.http,
  );
  if (!result.ok) return result;
  const match = result.value.data.find((entry) => entry.requestedUsername.toLowerCase() === username.toLowerCase());
  return { ok: true, value: match ? String(match.id) : null };
}
