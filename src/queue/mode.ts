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
import { CYCLE_SCHEDULER, type JobData, type JobResult, PRIORITY, QUEUE_NAME, QUEUE_PREFIX } from './jobs';
import { redisMemberLock } from './lock';
import { queuedMemberSync } from './membersync';
import { BLOCKING, connectRedis, redisWhere } from './redis';
import { startWorker } from './worker';

export interface QueueMode {
  /** Roblox budgets shared by every process using this key (pass to createRobloxApi). */
  makeBudget(kind: string, limit: number, windowMs: number): Budget;
  /** The member lock across processes (pass to createMemberSync, and to link changes). */
  memberLock: MemberLock;
  /** The Discord client's ws.buildIdentifyThrottler: shard processes of the bot `botId` identify in turns. */
  identifyThrottler(botId: string): ReturnType<typeof identifyThrottler>;
  /**
   * The SyncRuns and MemberSync commands use; `work()` starts this process's worker and upserts the
   * cycle's schedule (once the Discord client is ready: jobs read and write roles).
   */
  open(deps: Omit<QueueCycleDeps, 'redis' | 'queue' | 'flows' | 'lock' | 'stopping'>, syncCron: string): { runs: SyncRuns; sync: MemberSync; work(): Promise<void> };
  /** Lets this process's jobs in hand finish (a batch hands its rest to another process), then disconnects. */
  stop(): Promise<void>;
  /** The worker, for tests that stop a process abruptly. */
  worker(): Worker | undefined;
}

export async function connectQueueMode(url: string, apiKey: string, clock: Clock, log: Logger): Promise<QueueMode> {
  const onError = (error: Error) => log.warn({ err: error.message }, 'Redis connection problem; retrying');
  const redis: Redis = await connectRedis(url, undefined, onError);
  // Blocking reads (the worker's and the event listener's) wait for Redis to come back, as BullMQ requires.
  const [workerConnection, eventsConnection] = await Promise.all([connectRedis(url, BLOCKING, onError), connectRedis(url, BLOCKING, onError)]);
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX, defaultJobOptions: { removeOnComplete: { age: 3_600, count: 10_000 }, removeOnFail: { age: 24 * 3_600 } } });
  const flows = new FlowProducer({ connection: redis, prefix: QUEUE_PREFIX });
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: QUEUE_PREFIX });
  queue.on('error', (error) => log.warn({ err: error.message }, 'sync queue: Redis error'));
  // One budget per key owner and kind of request: keyed by a digest of the key, never the key.
  const owner = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
  const memberLock = redisMemberLock({ redis, clock, onLost: (id) => log.warn({ discordUserId: id }, 'a member lock could not be renewed (Redis away?)') });
  let worker: Worker | undefined;
  let stopping = false;

  return {
    makeBudget: (kind, limit, windowMs) =>
      new SharedRateBudget({ redis, key: `gatepass:budget:${owner}:${kind}`, limit, windowMs, clock, onError: (error) => log.warn({ err: (error as Error).message, kind }, 'shared Roblox budget: Redis error') }),
    memberLock,
    identifyThrottler: (botId) => identifyThrottler(redis, botId, log),
    worker: () => worker,
    open(base, syncCron) {
      const deps: QueueCycleDeps = { ...base, redis, queue, flows, lock: redisMemberLock({ redis, clock, prefix: 'gatepass:lock:' }), stopping: () => stopping };
      const work = async () => {
        await events.waitUntilReady();
        worker = startWorker(deps, workerConnection);
        // Idempotent: every process upserts the same scheduler, and BullMQ makes one tick per slot of the pattern.
        await queue.upsertJobScheduler(CYCLE_SCHEDULER, { pattern: syncCron }, { name: 'tick', data: { kind: 'tick', trigger: 'schedule' }, opts: { priority: PRIORITY.cycle } });
        log.info({ redis: redisWhere(url), schedule: syncCron }, 'queue mode: this process takes sync jobs; the cycle is scheduled in Redis');
      };
      const sync = queuedMemberSync(queue, events, base.sync);
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
          await worker?.close();
        },
        queueDepth: () => queueDepth(base.db),
      };
      return { runs, sync, work };
    },
    async stop() {
      stopping = true;
      await worker?.close();
      await Promise.allSettled([events.close(), flows.close(), queue.close()]);
      for (const connection of [redis, workerConnection, eventsConnection]) connection.disconnect();
    },
  };
}
