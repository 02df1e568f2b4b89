import { RateBudget } from './budget';
import { DEFAULT_HTTP_OPTIONS, type RobloxHttpOptions } from './http';
import { KeyGuard } from './keyguard';

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
    /** Get User has its own, larger quota (1000/min); we keep well below it. */
    users: RateBudget;
    /** Legacy username lookup: undocumented and tightening, so kept low. */
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
  };
}

export interface RobloxApiOptions {
  apiBaseUrl: string;
  usersBaseUrl: string;
  badgesBaseUrl: string;
  economyBaseUrl: string;
  apiKey: string;
  inventoryPerMinute: number;
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
  return {
    apiBaseUrl: options.apiBaseUrl,
    usersBaseUrl: options.usersBaseUrl,
    badgesBaseUrl: options.badgesBaseUrl,
    economyBaseUrl: options.economyBaseUrl,
    apiKey: options.apiKey,
    http,
    keyGuard: new KeyGuard(http.clock, options.onKeyState ?? (() => undefined), options.keyRetryBaseMs, options.keyRetryMaxMs),
    budgets: {
      inventory: new RateBudget(options.inventoryPerMinute, windowMs, http.clock),
      users: new RateBudget(500, windowMs, http.clock),
      usernames: new RateBudget(60, windowMs, http.clock),
      oauth: new RateBudget(300, windowMs, http.clock),
      gamePassNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
      badgeNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
      assetNames: new RateBudget(ITEM_NAMES_PER_MINUTE, windowMs, http.clock),
    },
  };
}

/** Per item-name endpoint: well under what a person browsing the catalogue sends. */
export const ITEM_NAMES_PER_MINUTE = 30;

/** Joins a base URL (which may carry a path) and an absolute API path. */
export function apiUrl(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}
