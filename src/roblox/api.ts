import { type Budget, RateBudget } from './budget';
import { GroupRoles } from './groups';
import { DEFAULT_HTTP_OPTIONS, type RobloxHttpOptions } from './http';
import { KeyGuard } from './keyguard';
import { createUsernameLookups, type UsernameLookups } from './usernames';

/** Everything a Roblox call needs: where to send it, the key, and the shared budgets. */
export interface RobloxApi {
  apiBaseUrl: string;
  usersBaseUrl: string;
  badgesBaseUrl: string;
  economyBaseUrl: string;
  apiKey: string;
  http: RobloxHttpOptions;
  keyGuard: KeyGuard;
  budgets: {
    /** List Inventory Items: 100/min per key owner by default. */
    inventory: Budget;
    /** Get User: its own quota, 1000/min per key owner by default. */
    users: Budget;
    /** Legacy username lookup: no documented limit, so kept low; its requests carry batches. */
    usernames: Budget;
    /** OAuth token, userinfo and revoke: undocumented limits, used once per sign-in or refresh. */
    oauth: Budget;
    /**
     * Item names for binds, one budget per endpoint (Roblox limits each endpoint on its own). None
     * of the three has a documented limit (roblox-api.md 10.2: the badge endpoint lists none, the
     * game-pass and asset ones are undocumented; 2.8: "additional, undocumented limits may apply"),
     * and a name is wanted only when a bind is added or a lookup is retried, so they are kept low.
     */
    gamePassNames: Budget;
    badgeNames: Budget;
    assetNames: Budget;
    /**
     * Open Cloud group memberships and roles: 300/min per API-key owner each, apart from inventory
     * ("Each endpoint has its own limit per API key owner"; roblox-api.md 10.1, from the
     * x-roblox-rate-limits of Cloud_ListGroupMemberships and Cloud_ListGroupRoles in the spec).
     */
    groupMemberships: Budget;
    groupRoles: Budget;
    /** Get Group, for bind names: 150/min documented; names are wanted rarely, so kept as low as the others. */
    groupNames: Budget;
  };
  /** Each bound group's rank per role, cached; see groups.ts. */
  groupRoles: GroupRoles;
  /** Username lookups, batched; see usernames.ts. */
  names: UsernameLookups;
}

/**
 * Get User (GET /cloud/v2/users/{id}) allows 1000 requests per minute per API-key owner: the
 * x-roblox-rate-limits of Cloud_GetUser in Roblox's OpenAPI file (Roblox/creator-docs @ b0bf2f15,
 * content/en-us/reference/cloud/openapi.json) and https://create.roblox.com/docs/cloud/reference/rate-limits.
 * The owner's other keys share it: lower ROBLOX_USERS_RATE_LIMIT if they also call it.
 */
export const DOCUMENTED_USERS_PER_MINUTE = 1000;

/**
 * POST users.roblox.com/v1/usernames/users has no documented rate limit (its spec entry in the same
 * file has none, and Roblox announced cutting legacy limits to "human-usage levels": DevForum, "Roblox
 * data stewardship principles", April 2026). So: a request every 5 seconds at most, each carrying
 * every name waiting (up to 100), which serves 1,200 names a minute.
 */
export const DEFAULT_USERNAMES_PER_MINUTE = 12;

/** How long the first lookup of a quiet moment waits for others to join its request. */
const GATHER_MS = 200;

export interface RobloxApiOptions {
  apiBaseUrl: string;
  usersBaseUrl: string;
  badgesBaseUrl: string;
  economyBaseUrl: string;
  apiKey: string;
  inventoryPerMinute: number;
  usersPerMinute?: number;
  usernamesPerMinute?: number;
  /** Group membership reads; the documented 300/min when unset. */
  groupsPerMinute?: number;
  http?: Partial<RobloxHttpOptions>;
  /** Length of the rate window; one minute in production, shorter in tests and benchmarks. */
  windowMs?: number;
  /** Told once when Roblox starts rejecting the key and once when it accepts it again. */
  onKeyState?: (state: 'rejected' | 'recovered', detail: string) => void;
  /** First wait before trying a rejected key again; it doubles up to `keyRetryMaxMs` (30 minutes). */
  keyRetryBaseMs?: number;
  keyRetryMaxMs?: number;
  /**
   * Builds each kind's budget; in-process RateBudgets when unset. Queue mode passes one backed by
   * Redis, so every process spends one budget per key owner, as Roblox counts it.
   */
  makeBudget?: (kind: string, limit: number, windowMs: number) => Budget;
}

export function createRobloxApi(options: RobloxApiOptions): RobloxApi {
  const http = { ...DEFAULT_HTTP_OPTIONS, ...options.http };
  const windowMs = options.windowMs ?? 60_000;
  const usernamesPerMinute = options.usernamesPerMinute ?? DEFAULT_USERNAMES_PER_MINUTE;
  const budget = (kind: string, limit: number) => options.makeBudget?.(kind, limit, windowMs) ?? new RateBudget(limit, windowMs, http.clock);
  const usernames = budget('usernames', usernamesPerMinute);
  const api: Omit<RobloxApi, 'groupRoles'> = {
    apiBaseUrl: options.apiBaseUrl,
    usersBaseUrl: options.usersBaseUrl,
    badgesBaseUrl: options.badgesBaseUrl,
    economyBaseUrl: options.economyBaseUrl,
    apiKey: options.apiKey,
    http,
    keyGuard: new KeyGuard(http.clock, options.onKeyState ?? (() => undefined), options.keyRetryBaseMs, options.keyRetryMaxMs),
    budgets: {
      inventory: budget('inventory', options.inventoryPerMinute),
      users: budget('users', options.usersPerMinute ?? DOCUMENTED_USERS_PER_MINUTE),
      usernames,
      oauth: budget('oauth', 300),
      gamePassNames: budget('gamePassNames', ITEM_NAMES_PER_MINUTE),
      badgeNames: budget('badgeNames', ITEM_NAMES_PER_MINUTE),
      assetNames: budget('assetNames', ITEM_NAMES_PER_MINUTE),
      groupMemberships: budget('groupMemberships', options.groupsPerMinute ?? DOCUMENTED_GROUPS_PER_MINUTE),
      groupRoles: budget('groupRoles', DOCUMENTED_GROUPS_PER_MINUTE),
      groupNames: budget('groupNames', ITEM_NAMES_PER_MINUTE),
    },
    names: createUsernameLookups({
      url: apiUrl(options.usersBaseUrl, '/v1/usernames/users'),
      budget: usernames,
      http,
      clock: http.clock,
      intervalMs: windowMs / usernamesPerMinute,
      gatherMs: Math.min(GATHER_MS, windowMs / usernamesPerMinute),
    }),
  };
  return { ...api, groupRoles: new GroupRoles(api, http.clock, windowMs) };
}

/** List Group Memberships and List Group Roles: 300/min per API-key owner each (see `budgets`). */
export const DOCUMENTED_GROUPS_PER_MINUTE = 300;

/** Per item-name endpoint: well under what a person browsing the catalogue sends. */
export const ITEM_NAMES_PER_MINUTE = 30;

/** Joins a base URL (which may carry a path) and an absolute API path. */
export function apiUrl(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}
