// Each process runs a BullMQ Worker on each queue (src/queue/jobs.ts), taking whatever job comes first by priority.

import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRunJob, planRun, type QueueCycleDeps, runBatchJob } from './cycle';
import { type JobData, type JobResult, MEMBER_QUEUE_NAME, QUEUE_NAME, QUEUE_PREFIX } from './jobs';

/**
 * How a job of a process that died is taken by another, within seconds and not after the cycle.
 *
 * A batch (100 members) takes about a minute at Roblox's default 100 inventory reads a minute, and
 * longer while /verify and joins go first. The lock need not outlast a batch: a live worker renews
 * it every lockDuration / 2 = 5 s whatever the batch's length. What the lock bounds is how long a
 * dead process's job stays taken: its lock lapses within 10 s and the next stalled check (every
 * 5 s, by any live worker) moves it back to wait: ~15 s at worst, against a cycle of 30 minutes.
 * Shorter would risk taking the job of a live process whose event loop stalled for a moment (then
 * the job runs twice: harmless, since member locks keep checks apart and a batch skips members
 * recorded since the run began, but it spends budget twice). maxStalledCount 3: a batch survives three
 * process deaths; a fourth says the batch itself kills processes, so it fails and its members
 * wait for the next cycle while the run closes without them.
 */
export const LOCK_DURATION_MS = 10_000;
export const STALLED_INTERVAL_MS = 5_000;
export const MAX_STALLED_COUNT = 3;
/**
 * Sync jobs a process works on at once. Each batch already checks eight members side by side and
 * the Roblox budget sets the pace, so a few slots suffice.
 */
const CONCURRENCY = 4;
/**
 * Members' jobs a process works on at once, on the member queue's own worker: however long the
 * batches in the sync worker's slots take, a waiting member's job starts at once. Each is one
 * member's check, whose Roblox reads go ahead of the batches' in the budget's line.
 */
const MEMBER_CONCURRENCY = 8;

export interface Workers {
  /** The sync queue's: the cycle's ticks, batches and closing, /sync of a server. */
  sync: Worker<JobData, JobResult>;
  /** The member queue's: /verify, /update, joins. */
  members: Worker<JobData, JobResult>;
  close(): Promise<void>;
}

export function startWorkers(deps: QueueCycleDeps, connection: Redis): Workers {
  const start = (name: string, concurrency: number) => {
    const worker = new Worker<JobData, JobResult>(name, (job) => process(deps, job), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 24 * 3_600 },
    });
    // Which process took which job: with several processes, where a batch or a member's check ran.
    worker.on('active', (job) => deps.log.debug({ job: job.id, kind: job.data.kind }, 'sync job taken'));
    worker.on('failed', (job, error) => deps.log.warn({ err: error, job: job?.id, kind: job?.data.kind, attempts: job?.attemptsMade }, 'queued sync job failed'));
    worker.on('error', (error) => deps.log.error({ err: error, queue: name }, 'sync queue worker: Redis error; retrying'));
    return worker;
  };
  const sync = start(QUEUE_NAME, CONCURRENCY);
  const members = start(MEMBER_QUEUE_NAME, MEMBER_CONCURRENCY);
  return { sync, members, close: async () => void (await Promise.all([sync.close(), members.close()])) };
}

async function process(deps: QueueCycleDeps, job: Job<JobData, JobResult>): Promise<JobResult> {
  const data = job.data;
  switch (data.kind) {
    case 'one':
      return deps.sync.one(data.id, { priority: data.priority, alsoIn: data.alsoIn });
    case 'members':
      return deps.sync.batch(data.ids, { priority: true, readInBulk: true, alsoIn: data.alsoIn });
    case 'tick':
      await planRun(deps, data.trigger);
      return null;
    case 'batch':
      return runBatchJob(deps, data);
    case 'close':
      await closeRunJob(deps, job, data);
      return null;
  }
}
