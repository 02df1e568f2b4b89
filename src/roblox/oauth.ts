// Roblox OAuth 2.0 (authorization code + PKCE): the authorize address, code and refresh-token
// exchanges, userinfo and revocation. Endpoints live under ROBLOX_API_BASE_URL at /oauth.

import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { apiUrl, type RobloxApi } from './api';
import type { Wait } from './budget';
import { robloxCall, type RobloxResult } from './http';

export const OAUTH_SCOPES = ['openid', 'profile', 'user.inventory-item:read'] as const;
export const INVENTORY_SCOPE = 'user.inventory-item:read';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** A PKCE verifier: 43 characters from the unreserved set, as RFC 7636 asks. */
export const newVerifier = () => randomBytes(32).toString('base64url');
export const challengeFor = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export function authorizeUrl(api: RobloxApi, client: OAuthClient, state: string, verifier: string): string {
  const url = apiUrl(api.apiBaseUrl, '/oauth/v1/authorize');
  url.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: OAUTH_SCOPES.join(' '),
    response_type: 'code',
    state,
    code_challenge: challengeFor(verifier),
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

const tokenBody = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type is not Bearer'),
  expires_in: z.number().int().positive(),
  scope: z.string(),
});

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token stops working, in ms since the epoch. */
  expiresAt: number;
  scopes: string[];
}

/** Exchanges a callback's code, or a refresh token (single-use: the answer carries its successor). */
export async function requestTokens(api: RobloxApi, client: OAuthClient, grant: { code: string; verifier: string } | { refreshToken: string }, onWait?: (wait: Wait) => void): Promise<RobloxResult<Tokens>> {
  const form = new URLSearchParams(
    'code' in grant
      ? { grant_type: 'authorization_code', code: grant.code, code_verifier: grant.verifier, redirect_uri: client.redirectUri }
      : { grant_type: 'refresh_token', refresh_token: grant.refreshToken },
  );
  const sentAt = api.http.clock.now();
  // Never retried: a code or refresh token Roblox has already spent would come back invalid_grant.
  const result = await robloxCall({ url: apiUrl(api.apiBaseUrl, '/oauth/v1/token'), method: 'POST', headers: basicAuth(client), body: form, budget: api.budgets.oauth, priority: true, onWait, schema: tokenBody }, { ...api.http, maxAttempts: 1 });
  if (!result.ok) return result;
  const t = result.value;
  // Dated from the request, with a minute's margin, so a token is never used at its very end.
  return { ok: true, value: { accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: sentAt + (t.expires_in - 60) * 1000, scopes: t.scope.split(' ').filter(Boolean) } };
}

const userinfoBody = z.object({
  sub: z.string().regex(/^\d+$/, 'sub is not a Roblox user id'),
  preferred_username: z.string().min(1).optional(),
  name: z.string().optional(),
  nickname: z.string().optional(),
});

/** The signed-in Roblox account: its id comes from `sub`, never from a name. */
export async function userinfo(api: RobloxApi, accessToken: string, onWait?: (wait: Wait) => void): Promise<RobloxResult<{ id: string; name: string; displayName: string }>> {
  const result = await robloxCall({ url: apiUrl(api.apiBaseUrl, '/oauth/v1/userinfo'), headers: { authorization: `Bearer ${accessToken}` }, budget: api.budgets.oauth, priority: true, onWait, schema: userinfoBody }, api.http);
  if (!result.ok) return result;
  const name = result.value.preferred_username ?? result.value.name ?? result.value.sub;
  // With the profile scope, `nickname` and `name` are the display name, `preferred_username` the username.
  return { ok: true, value: { id: result.value.sub, name, displayName: result.value.nickname ?? (result.value.preferred_username ? result.value.name : undefined) ?? name } };
}

/** Revokes a refresh token (and with it the member's consent) at Roblox. */
export async function revokeToken(api: RobloxApi, client: OAuthClient, refreshToken: string): Promise<RobloxResult<unknown>> {
  return robloxCall({ url: apiUrl(api.apiBaseUrl, '/oauth/v1/token/revoke'), method: 'POST', headers: basicAuth(client), body: new URLSearchParams({ token: refreshToken }), budget: api.budgets.oauth, priority: true, schema: z.unknown(), emptyOk: true }, api.http);
}

function basicAuth(client: OAuthClient): Record<string, string> {
  // RFC 6749 2.3.1: each part is form-encoded before base64.
  const encode = (part: string) => encodeURIComponent(part).replace(/%20/g, '+');
  return { authorization: `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}` };
}
