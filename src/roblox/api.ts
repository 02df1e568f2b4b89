import { RateBudget } from './budget';
import { DEFAULT_HTTP_OPTIONS, type RobloxHttpOptions } from './http';
import { KeyGuard } from './keyguard';

/** Everything a Roblox call needs: where to send it, the key, and the shared budgets. */
export interface RobloxApi {
  apiBaseUrl: string;
  usersBaseUrl: string;
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
  };
}

export interface RobloxApiOptions {
  apiBaseUrl: string;
  usersBaseUrl: string;
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
    apiKey: options.apiKey,
    http,
    keyGuard: new KeyGuard(http.clock, options.onKeyState ?? (() => undefined), options.keyRetryBaseMs, options.keyRetryMaxMs),
    budgets: {
      inventory: new RateBudget(options.inventoryPerMinute, windowMs, http.clock),
      users: new RateBudget(500, windowMs, http.clock),
      usernames: new RateBudget(60, windowMs, http.clock),
      oauth: new RateBudget(300, windowMs, http.clock),
    },
  };
}

/** Joins a base URL (which may carry a path) and an absolute API path. */
export function apiUrl(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}
