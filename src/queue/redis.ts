// Connections to Redis for queue mode. Commands of our own (budget, locks, adding jobs) fail fast
// while Redis is away, so a check becomes "could not check" instead of hanging; BullMQ's workers
// and event listeners block on Redis and wait for it to come back, as BullMQ requires.

import { Redis, type RedisOptions } from 'ioredis';

/** The URL for logs and errors: host and port, never a password. */
export function redisWhere(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
}

const FAST: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 5_000 };
/** BullMQ's workers must never give up on a command; they retry until Redis is back. */
export const BLOCKING: RedisOptions = { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5_000 };

export function redisClient(url: string, options: RedisOptions = FAST): Redis {
  return new Redis(url, { ...options, retryStrategy: (times) => Math.min(times * 200, 2_000) });
}

/** Connects, or explains in one line why it could not (the URL's password left out). */
export async function connectRedis(url: string, options: RedisOptions = FAST, onError: (error: Error) => void = () => undefined): Promise<Redis> {
  const redis = redisClient(url, { ...options, retryStrategy: () => null });
  // Without a listener ioredis prints every failed reconnection; the caller decides what to say.
  redis.on('error', onError);
  // The socket's own error (ECONNREFUSED, a DNS failure) says more than "Connection is closed".
  let cause: Error | undefined;
  const first = (error: Error) => (cause ??= error);
  redis.on('error', first);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = (cause ?? (error as Error)).message.replace(url, redisWhere(url)).replace(/\.+$/, '');
    throw new Error(`Redis at ${redisWhere(url)} (REDIS_URL) could not be reached: ${reason}. Start it (apt-get install redis-server) or unset REDIS_URL to run as one process.`);
  }
  redis.off('error', first);
  // Connected: from now on a lost connection is retried, not given up.
  redis.options.retryStrategy = (times) => Math.min(times * 200, 2_000);
  return redis;
}
