// One Roblox budget for every process (queue mode): RateBudget's rules, kept in Redis.
//
// Why a short script and not a rate-limit library: Roblox counts a key owner's requests in a
// rolling window as they arrive. The common Redis limiters count fixed windows (two full windows
// either side of a boundary let 2× the limit through in one rolling window) or use token buckets
// that refill continuously; neither dates a slot from when its response came back, keeps a count of
// requests in flight, or takes a pause from a retry-after. Twenty lines of Lua do exactly that.

import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import { type Budget, RateBudget, type Wait } from '../roblox/budget';
import { DEFAULT_HTTP_OPTIONS } from '../roblox/http';

/**
 * KEYS[1] the slots (a sorted set: member = a slot's token, score = when it landed, or for one in
 * flight its deadline, in the future), KEYS[2] the pause (a time in ms).
 * ARGV: windowMs, limit, maxInFlight, inFlightMs, token.
 * Returns 0 when the slot is taken, else how many ms to wait before asking again (-1: poll).
 * Times come from Redis's own clock, so processes on different machines agree.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit, maxInFlight, inFlightMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') >= maxInFlight then return -1 end
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if oldest > now then return -1 end
  return oldest + window - now
end
redis.call('ZADD', KEYS[1], now + inFlightMs, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + inFlightMs)
return 0
`;

/** The response arrived: the slot is dated now (XX: a slot already aged out is not revived). */
const LAND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
`;

/** Pauses until now + ARGV[1] ms, never shortening a longer pause another process set. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
`;

export interface SharedBudgetOptions {
  redis: Redis;
  /** Redis key prefix of this budget: one per key owner and kind of request. */
  key: string;
  limit: number;
  windowMs: number;
  clock: Clock;
  /** Requests in flight at once across every process. */
  maxInFlight?: number;
  /**
   * How long a slot counts as in flight if its process never reports its response (it died). Then it
   * counts as landed at that deadline, so a dead process's slots free themselves. Past the HTTP
   * timeout with room to spare: a live request is never taken for a dead one (IN_FLIGHT_MS).
   */
  inFlightMs?: number;
  /** Told when Redis cannot be asked; the request then fails to the caller (and nothing is changed). */
  onError?: (error: unknown) => void;
}

/**
 * A slot is held for one attempt, and each attempt, its body included, is aborted at the HTTP
 * timeout (src/roblox/http.ts): a slot still in flight 5 s past it belongs to a dead process. The
 * 5 s cover a stalled event loop and the trips to Redis either side; kept longer, a crash would stall
 * every process's reads for that long.
 */
const IN_FLIGHT_MS = DEFAULT_HTTP_OPTIONS.timeoutMs + 5_000;

let tokens = 0;

export class SharedRateBudget implements Budget {
  readonly limit: number;
  readonly windowMs: number;
  /** This process's lane: priority first, a background share, one at a time until Roblox speaks. */
  private readonly local: RateBudget;
  private readonly slots: string;
  private readonly pause: string;
  private readonly maxInFlight: number;
  private readonly inFlightMs: number;

  constructor(private readonly options: SharedBudgetOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.inFlightMs = options.inFlightMs ?? IN_FLIGHT_MS;
    // Never stricter than the shared count: a process can't use more of the window than all of them.
    this.local = new RateBudget(options.limit, options.windowMs, options.clock, this.maxInFlight);
    this.slots = `${options.key}:slots`;
    this.pause = `${options.key}:pause`;
  }

  async take(priority = false, onWait?: (wait: Wait) => void): Promise<() => void> {
    const landedHere = await this.local.take(priority, onWait);
    const token = `${process.pid}:${Date.now()}:${++tokens}`;
    try {
      const poll = Math.min(50, this.windowMs / 10);
      for (;;) {
        const wait = Number(await this.options.redis.eval(TAKE, 2, this.slots, this.pause, this.windowMs, this.limit, this.maxInFlight, this.inFlightMs, token));
        if (wait === 0) break;
        await this.options.clock.sleep(wait < 0 ? poll : wait);
      }
    } catch (error) {
      landedHere();
      throw error;
    }
    return () => {
      landedHere();
      this.options.redis.eval(LAND, 1, this.slots, token).catch((error: unknown) => this.options.onError?.(error));
    };
  }

  pauseFor(ms: number): void {
    this.local.pauseFor(ms);
    this.options.redis.eval(PAUSE, 1, this.pause, Math.ceil(ms)).catch((error: unknown) => this.options.onError?.(error));
  }

  /** An exhausted x-ratelimit window pauses every process, through pauseFor. */
  observe(remaining: number | undefined, resetSeconds: number | undefined): void {
    this.local.observe(remaining, undefined);
    if (remaining !== undefined && resetSeconds !== undefined && remaining < this.maxInFlight) this.pauseFor(resetSeconds * 1000);
  }
}
