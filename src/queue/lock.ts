// A member's lock across processes (queue mode): SET NX PX with this holder's token, renewed while
// the work runs, released only by its holder (compare-and-delete). Within a process, waiters queue
// on the in-process chain first, so only one of them at a time asks Redis.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import { localMemberLock, type MemberLock } from '../sync/memberlock';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface RedisLockOptions {
  redis: Redis;
  clock: Clock;
  /** Key prefix; the member's id follows. */
  prefix?: string;
  /**
   * How long a lock outlives its holder: a process killed mid-check blocks that member for at most
   * this long. Renewed every third of it, so a live holder keeps it through a slow Roblox budget.
   */
  ttlMs?: number;
  /** Told when a renewal fails: the work goes on, but another process may take the member. */
  onLost?: (id: string) => void;
}

export function redisMemberLock(options: RedisLockOptions): MemberLock {
  const { redis, clock } = options;
  const prefix = options.prefix ?? 'gatepass:member-lock:';
  const ttl = options.ttlMs ?? 10_000;
  const local = localMemberLock();

  const acquire = async (key: string, token: string) => {
    // Backs off from 20 ms to half a second: a busy member is asked about a few times a second at most.
    for (let wait = 20; ; wait = Math.min(500, wait * 2)) {
      if ((await redis.set(key, token, 'PX', ttl, 'NX')) === 'OK') return;
      await clock.sleep(wait / 2 + Math.random() * (wait / 2));
    }
  };

  return <T,>(id: string, work: () => Promise<T>) =>
    local(id, async () => {
      const key = prefix + id;
      const token = randomUUID();
      await acquire(key, token);
      const renewal = setInterval(() => {
        redis.eval(RENEW, 1, key, token, ttl).then(
          (kept) => kept === 0 && options.onLost?.(id),
          () => options.onLost?.(id),
        );
      }, ttl / 3);
      try {
        return await work();
      } finally {
        clearInterval(renewal);
        // Redis away: the lock simply expires after ttl.
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      }
    });
}
