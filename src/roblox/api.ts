import { RateBudget } from './budget';
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
    inventory: RateBudget;
    /** Get User: its own quota, 1000/min per key owner by default. */
    users: RateBudget;
    /** Legacy username lookup: no documented limit, so kept low; its requests carry batches. */
    usernames: RateBudget;
    /** OAuth token, userinfo and revoke: undocumented limits, used once per sign-in or refresh. */
    oauth: RateBudget;
    /**
     * Item names for binds, one budget per endpoint (Roblox limits each endpoint on its own). None
     * of the three has a documented limit (roblox-api.md 10.2: the badge endpoint lists none, the
     * game-pass and asset ones are undocumented; 2.8: "additional, undocumented limits may apply"),
     * and a name is wanted only when a bind is added or a lookup is retried, so they are kept low.
     */
    gamePassNames: RateBudget;
    badgeNames: RateBudget;
    assetNames: RateBudget;
    /**
     * Open Cloud group memberships and roles: 300/min per API-key owner each, apart from inventory
     * ("Each endpoint has its own limit per API key owner"; roblox-api.md 10.1, from the
     * x-roblox-rate-limits of Cloud_ListGroupMemberships and Cloud_ListGroupRoles in the spec).
     */
    groupMemberships: RateBudget;
    groupRoles: RateBudget;
    /** Get Group, for bind names: 150/min documented; names are wanted rarely, so kept as low as the others. */
    groupNames: RateBudget;
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
}

export function createRobloxApi(options: RobloxApiOptions): RobloxApi {
  const http = { ...DEFAULT_HTTP_OPTIONS, ...options.http };
  const windowMs = options.windowMs ?? 60_000;
  const usernamesPerMinute = options.usernamesPerMinute ?? DEFAULT_USERNAMES_PER_MINUTE;
  const usernames = new RateBudget(usernamesPerMinute, windowMs, http.clock);
  const api: Omit<RobloxApi, 'groupRoles'> = {
    apiBaseUrl: options.apiBaseUrl,
    usersBaseUrl: options.usersBaseUrl,
    badgesBaseUrl: options.badgesBaseUrl,
    economyBaseUrl: options.economyBaseUrl,
    apiKey: options.apiKey,
    http,
    keyGuard: new KeyGuard(http.clock, options.onKeyState ?? (() => undefined), options.keyRetryBaseMs, options.keyRetryMaxMs),
    budgets: {
      inventory: new RateBudget(options.inventoryPerMinute, windowMs, http.clock),
      users: new RateBudget(options.usersPerMinute ?? DOCUMENTED_USERS_PER_MINUTE, windowMs, http.clock),
      usernames,
      oauth: new RateBudget(300, windowMs, http.clock),
      gamePassNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
      badgeNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
      assetNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
      groupMemberships: new RateBudget(options.groupsPerMinute ?? DOCUMENTED_GROUPS_PER_MINUTE, windowMs, http.clock),
      groupRoles: new RateBudget(DOCUMENTED_GROUPS_PER_MINUTE, windowMs, http.clock),
      groupNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
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
