// Queue mode (REDIS_URL set): what bot.ts wires instead of the single-process cycle. Connecting
// happens before anything else starts, so an unreachable Redis is one clear line at start-up.

import { createHash } from 'node:crypto';
import { FlowProducer, Queue, QueueEvents, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { Budget } from '../roblox/budget';
import { queueDepth } from '../sync/cycle';
import type { MemberLock } from '../sync/memberlock';
import type { MemberSync } from '../sync/members';
import type { SyncRuns } from '../sync/runs';
import { createServerSyncs } from '../sync/serversync';
import { SharedRateBudget } from './budget';
import { addTick, type QueueCycleDeps } from './cycle';
import { identifyThrottler } from './identify';
import { CYCLE_SCHEDULER, type JobData, type JobResult, MEMBER_QUEUE_NAME, PRIORITY, QUEUE_NAME, QUEUE_PREFIX } from './jobs';
import { redisMemberLock } from './lock';
import { queuedMemberSync } from './membersync';
import { type Channel, openChannel } from './channel';
import { BLOCKING, connectRedis, redisWhere } from './redis';
import { startWorkers, type Workers } from './worker';

export interface QueueMode {
  /** Roblox budgets shared by every process using this key (pass to createRobloxApi). */
  makeBudget(kind: string, limit: number, windowMs: number): Budget;
  /** The member lock across processes (pass to createMemberSync, and to link changes). */
  memberLock: MemberLock;
  /** The Discord client's ws.buildIdentifyThrottler: shard processes of the bot `botId` identify in turns. */
  identifyThrottler(botId: string): ReturnType<typeof identifyThrottler>;
  /**
   * The SyncRuns and MemberSync commands use; `work()` starts this process's workers and upserts the
   * cycle's schedule (once the Discord client is ready: jobs read and write roles).
   */
  open(deps: Omit<QueueCycleDeps, 'redis' | 'queue' | 'flows' | 'lock' | 'stopping'>, syncCron: string): { runs: SyncRuns; sync: MemberSync; work(): Promise<void> };
  /** A channel every process hears (Redis pub/sub), subscribed once this resolves. */
  channel(name: string): Promise<Channel>;
  /** Lets this process's jobs in hand finish (a batch hands its rest to another process), then disconnects. */
  stop(): Promise<void>;
  /** The sync queue's worker, for tests that watch its jobs. */
  worker(): Worker | undefined;
}

export async function connectQueueMode(url: string, apiKey: string, clock: Clock, log: Logger): Promise<QueueMode> {
  const onError = (error: Error) => log.warn({ err: error.message }, 'Redis connection problem; retrying');
  const redis: Redis = await connectRedis(url, undefined, onError);
  // Blocking reads (the workers' and the event listeners') wait for Redis to come back, as BullMQ requires.
  const blocking = await Promise.all([1, 2, 3].map(() => connectRedis(url, BLOCKING, onError)));
  const [workerConnection, eventsConnection, memberEventsConnection] = blocking as [Redis, Redis, Redis];
  const line = (name: string, connection: Redis) => {
    const queue = new Queue<JobData, JobResult>(name, { connection: redis, prefix: QUEUE_PREFIX, defaultJobOptions: { removeOnComplete: { age: 3_600, count: 10_000 }, removeOnFail: { age: 24 * 3_600 } } });
    queue.on('error', (error) => log.warn({ err: error.message, queue: name }, 'sync queue: Redis error'));
    return { queue, events: new QueueEvents(name, { connection, prefix: QUEUE_PREFIX }) };
  };
  const syncLine = line(QUEUE_NAME, eventsConnection);
  const memberLine = line(MEMBER_QUEUE_NAME, memberEventsConnection);
  const { queue, events } = syncLine;
  const flows = new FlowProducer({ connection: redis, prefix: QUEUE_PREFIX });
  // One budget per key owner and kind of request: keyed by a digest of the key, never the key.
  const owner = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
  const memberLock = redisMemberLock({ redis, clock, onLost: (id) => log.warn({ discordUserId: id }, 'a member lock could not be renewed (Redis away?)') });
  let workers: Workers | undefined;
  let stopping = false;
  const channels: { close(): void }[] = [];

  return {
    makeBudget: (kind, limit, windowMs) =>
      new SharedRateBudget({ redis, key: `gatepass:budget:${owner}:${kind}`, limit, windowMs, clock, onError: (error) => log.warn({ err: (error as Error).message, kind }, 'shared Roblox budget: Redis error') }),
    memberLock,
    identifyThrottler: (botId) => identifyThrottler(redis, botId, log),
    worker: () => workers?.sync,
    open(base, syncCron) {
      const deps: QueueCycleDeps = { ...base, redis, queue, flows, lock: redisMemberLock({ redis, clock, prefix: 'gatepass:lock:' }), stopping: () => stopping };
      const work = async () => {
        await Promise.all([events.waitUntilReady(), memberLine.events.waitUntilReady()]);
        workers = startWorkers(deps, workerConnection);
        // Idempotent: every process upserts the same scheduler, and BullMQ makes one tick per slot of the pattern.
        await queue.upsertJobScheduler(CYCLE_SCHEDULER, { pattern: syncCron }, { name: 'tick', data: { kind: 'tick', trigger: 'schedule' }, opts: { priority: PRIORITY.cycle } });
        log.info({ redis: redisWhere(url), schedule: syncCron }, 'queue mode: this process takes sync jobs; the cycle is scheduled in Redis');
      };
      const sync = queuedMemberSync({ members: memberLine, sync: syncLine }, base.sync);
      const runServer = createServerSyncs({ ...deps, sync, stopping: () => stopping });
      const runs: SyncRuns = {
        // The run is planned by whichever process takes the tick; the caller does not wait for it.
        runAll: async (trigger) => {
          await addTick(queue, trigger);
          return null;
        },
        runServer,
        stop: async () => {
          stopping = true;
          await workers?.close();
        },
        queueDepth: () => queueDepth(base.db),
      };
      return { runs, sync, work };
    },
    async channel(name) {
      const channel = await openChannel(url, redis, name, onError);
      channels.push(channel);
      return channel;
    },
    async stop() {
      stopping = true;
      await workers?.close();
      for (const channel of channels) channel.close();
      await Promise.allSettled([events.close(), memberLine.events.close(), flows.close(), queue.close(), memberLine.queue.close()]);
      for (const connection of [redis, ...blocking]) connection.disconnect();
    },
  };
}
