// Messages every process hears (Redis pub/sub): how one process tells another something only that
// one can act on, such as the /verify reply it holds (src/oauth/signin.ts). Fire and forget: a
// process that is down or reconnecting misses what is sent meanwhile, so nothing may rely on it
// for more than telling someone sooner what they would otherwise learn elsewhere.

import type { Redis } from 'ioredis';
import { BLOCKING, connectRedis } from './redis';

export interface Channel {
  /** Sends to every process listening on the channel, this one included. */
  publish(message: string): Promise<void>;
  listen(listener: (message: string) => void): void;
}

/** Subscribed before it resolves: nothing published afterwards is missed while connected. */
export async function openChannel(url: string, publisher: Redis, name: string, onError: (error: Error) => void): Promise<Channel & { close(): void }> {
  // A subscribed connection can do nothing else; ioredis subscribes it again after a reconnection.
  const subscriber = await connectRedis(url, BLOCKING, onError);
  await subscriber.subscribe(name);
  const listeners: ((message: string) => void)[] = [];
  subscriber.on('message', (from: string, message: string) => {
    if (from === name) for (const listener of listeners) listener(message);
  });
  return {
    publish: async (message) => void (await publisher.publish(name, message)),
    listen: (listener) => void listeners.push(listener),
    close: () => subscriber.disconnect(),
  };
}
