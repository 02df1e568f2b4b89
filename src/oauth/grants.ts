// Members' consents from Sign in with Roblox: the sealed refresh token in the database, a short-lived
// access token in memory, and each member's own 20-a-minute budget. Refresh tokens are single-use,
// so a member's refreshes run one at a time and each new token is stored before its access token is used.

import type { Clock } from '../clock';
import type { Database } from '../database/client';
import type { Logger } from '../log';
import type { RobloxApi } from '../roblox/api';
import { RateBudget } from '../roblox/budget';
import type { MemberToken } from '../roblox/inventory';
import { INVENTORY_SCOPE, type OAuthClient, requestTokens, revokeToken, type Tokens } from '../roblox/oauth';
import { seal, unseal } from './sealing';

export interface OAuthSettings {
  client: OAuthClient;
  tokenKey: Buffer;
}

/** The member's token, or why the API key is used instead (shown for private servers). */
export type MemberAccess = { kind: 'token'; token: MemberToken } | { kind: 'key'; reason: string };

const NEVER_SIGNED_IN = 'private-server ownership needs the member to sign in with Roblox (`/verify` without a username)';
const CONSENT_GONE = "the member's Roblox sign-in was withdrawn or expired; they can run `/verify` to sign in again";
const REFRESH_FAILED = "the member's Roblox sign-in could not be refreshed just now; will retry";

/** Per-token quota of List Inventory Items. */
const TOKEN_REQUESTS_PER_MINUTE = 20;

/**
 * Access tokens and budgets kept in memory, most recently used last. A cycle uses each member's
 * once, so past this many the least recently used go (a later use refreshes the token): memory
 * stays bounded however many members sign in.
 */
export const MAX_MEMBERS_IN_MEMORY = 5_000;

/** Sets `key` as the most recently used entry, dropping the least recently used past the bound. */
function touch<K, V>(map: Map<K, V>, key: K, value: V): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_MEMBERS_IN_MEMORY) map.delete(map.keys().next().value as K);
  return value;
}

export interface Grants {
  /** How to read this member's inventory; `robloxUserId` is their link's, which a consent must match. */
  access(discordUserId: string, robloxUserId: string): Promise<MemberAccess>;
  /** Roblox refused the access token (revoked at Roblox?): the next access() refreshes. */
  refused(discordUserId: string): void;
  /** Stores a fresh consent; in the transaction that writes the link. */
  store(tx: Pick<Database, 'oAuthGrant'>, discordUserId: string, robloxUserId: string, tokens: Tokens): Promise<void>;
  /** Revokes the consent at Roblox (best effort) and forgets it: false when Roblox could not be told, undefined when there was none. */
  forget(discordUserId: string): Promise<boolean | undefined>;
}

interface GrantDeps {
  db: Database;
  roblox: RobloxApi;
  log: Logger;
  clock: Clock;
  settings: OAuthSettings;
  windowMs?: number;
}

export function createGrants(deps: GrantDeps): Grants {
  const { db, roblox, log, clock, settings } = deps;
  const cached = new Map<string, { accessToken: string; expiresAt: number; scopes: string[]; robloxUserId: string }>();
  const budgets = new Map<string, RateBudget>();
  const refreshing = new Map<string, Promise<MemberAccess>>();

  const budgetFor = (discordUserId: string) =>
    touch(budgets, discordUserId, budgets.get(discordUserId) ?? new RateBudget(TOKEN_REQUESTS_PER_MINUTE, deps.windowMs ?? 60_000, clock));

  const remember = (discordUserId: string, robloxUserId: string, tokens: Tokens) =>
    touch(cached, discordUserId, { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, scopes: tokens.scopes, robloxUserId });

  async function refresh(discordUserId: string, robloxUserId: string): Promise<MemberAccess> {
    const grant = await db.oAuthGrant.findUnique({ where: { discordUserId } });
    if (!grant || grant.robloxUserId !== robloxUserId) return { kind: 'key', reason: NEVER_SIGNED_IN };
    if (grant.status !== 'active') return { kind: 'key', reason: CONSENT_GONE };
    const refreshToken = unseal(settings.tokenKey, grant.refreshToken, discordUserId);
    if (refreshToken === undefined) {
      log.error({ discordUserId }, 'a stored Roblox sign-in cannot be opened with TOKEN_ENCRYPTION_KEY (was the key changed?); using the API key for this member');
      return { kind: 'key', reason: REFRESH_FAILED };
    }
    const answer = await requestTokens(roblox, settings.client, { refreshToken });
    if (!answer.ok) {
      if (answer.failure.code === 'invalid_grant') {
        await db.oAuthGrant.update({ where: { discordUserId }, data: { status: 'revoked', updatedAt: new Date(clock.now()) } });
        log.info({ discordUserId }, 'Roblox sign-in withdrawn or expired; falling back to the API key for this member');
        return { kind: 'key', reason: CONSENT_GONE };
      }
      log.warn({ discordUserId, failure: answer.failure.kind, detail: answer.failure.detail }, 'could not refresh a Roblox sign-in');
      return { kind: 'key', reason: REFRESH_FAILED };
    }
    // The old refresh token is spent now: the new one is stored before anything else happens.
    await db.oAuthGrant.update({
      where: { discordUserId },
      data: { refreshToken: seal(settings.tokenKey, answer.value.refreshToken, discordUserId), scopes: answer.value.scopes.join(' '), updatedAt: new Date(clock.now()) },
    });
    remember(discordUserId, robloxUserId, answer.value);
    return tokenAccess(discordUserId, answer.value.accessToken, answer.value.scopes);
  }

  function tokenAccess(discordUserId: string, accessToken: string, scopes: readonly string[]): MemberAccess {
    // Without the inventory scope the token reads no more than the key does; the key's quota is larger.
    if (!scopes.includes(INVENTORY_SCOPE)) return { kind: 'key', reason: CONSENT_GONE };
    return { kind: 'token', token: { accessToken, budget: budgetFor(discordUserId) } };
  }

  return {
    async access(discordUserId, robloxUserId) {
      const hit = cached.get(discordUserId);
      // A token is for one Roblox account: after a relink to another, it is not used for the new one.
      if (hit && hit.expiresAt > clock.now() && hit.robloxUserId === robloxUserId) return tokenAccess(discordUserId, touch(cached, discordUserId, hit).accessToken, hit.scopes);
      if (hit) cached.delete(discordUserId); // expired or for another account: never used again
      let pending = refreshing.get(discordUserId);
      if (!pending) {
        pending = refresh(discordUserId, robloxUserId).finally(() => refreshing.delete(discordUserId));
        refreshing.set(discordUserId, pending);
      }
      return pending;
    },

    refused(discordUserId) {
      cached.delete(discordUserId);
    },

    async store(tx, discordUserId, robloxUserId, tokens) {
      const data = { robloxUserId, refreshToken: seal(settings.tokenKey, tokens.refreshToken, discordUserId), scopes: tokens.scopes.join(' '), status: 'active', updatedAt: new Date(clock.now()) };
      await tx.oAuthGrant.upsert({ where: { discordUserId }, create: { discordUserId, ...data }, update: data });
      remember(discordUserId, robloxUserId, tokens);
    },

    async forget(discordUserId) {
      cached.delete(discordUserId);
      budgets.delete(discordUserId);
      const grant = await db.oAuthGrant.findUnique({ where: { discordUserId } });
      if (!grant) return undefined;
      await db.oAuthGrant.deleteMany({ where: { discordUserId } });
      const refreshToken = grant.status === 'active' ? unseal(settings.tokenKey, grant.refreshToken, discordUserId) : undefined;
      if (refreshToken === undefined) return true;
      const revoked = await revokeToken(roblox, settings.client, refreshToken);
      if (!revoked.ok) log.warn({ discordUserId, failure: revoked.failure.kind }, 'could not revoke a Roblox sign-in at Roblox; it was deleted here');
      return revoked.ok;
    },
  };
}
