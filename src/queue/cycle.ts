// The scheduled cycle in queue mode. A tick (from BullMQ's job scheduler, one per schedule however
// many processes) opens the SyncRun row and plans the whole run as one BullMQ flow: a batch job per
// hundred members, grouped by server as the single-process cycle groups them, under a parent job
// that closes the run and posts its log once every batch is done. Whichever process is free takes
// the next batch; a batch whose process died is taken by another (see worker.ts).

import type { FlowProducer, Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { allUnchecked, checkedSince } from '../database/links';
import { unlinkedFollowed } from '../database/membersync';
import { closeRun, findOpenRun, openRun } from '../database/syncruns';
import { type BatchDeps, noTotals, runBatch } from '../sync/batchrun';
import { type CycleDeps, groupByServer, inBatches, WINDOW } from '../sync/cycle';
import type { MemberLock } from '../sync/memberlock';
import { createRunLog, runLogEntry, type RunLogEntry } from '../sync/runlog';
import { type SyncStats, timeDatabase } from '../sync/stats';
import { type BatchOutcome, type JobData, PRIORITY, QUEUE_NAME } from './jobs';

/** `sync` is this process's own MemberSync: the jobs this process takes end up there. */
export interface QueueCycleDeps extends CycleDeps {
  redis: Redis;
  queue: Queue;
  flows: FlowProducer;
  /** A lock across processes, so two ticks never plan one run twice. */
  lock: MemberLock;
  /** True once this process is shutting down. */
  stopping: () => boolean;
}

/**
 * Members recorded at a time within a batch job: a batch retried after its process died redoes at
 * most this many (the rest were recorded, and are skipped as checked since the run began).
 */
const CHUNK = 20;
/** A batch job's attempts: a process that stops hands its batch on by failing it (see runBatchJob). */
export const BATCH_ATTEMPTS = 5;

const flowKey = (runId: number) => `gatepass:run:${runId}:flow`;
const planKey = (runId: number) => `gatepass:run:${runId}:plans`;
/** A tick that came while a run was under way: the next run starts as soon as this one closes. */
const AGAIN_KEY = 'gatepass:cycle:again';

/** Opens (or resumes) the run and plans it, unless the open run's flow is still under way. */
export async function planRun(deps: QueueCycleDeps, trigger: string): Promise<void> {
  // A cycle over an index still being reconciled would miss the servers members joined meanwhile.
  await deps.indexReady();
  await deps.lock('cycle-plan', async () => {
    const { run, resumed } = await openRun(deps.db, trigger, new Date(deps.clock.now()));
    const flowId = await deps.redis.get(flowKey(run.id));
    const flow = flowId ? await deps.queue.getJob(flowId) : undefined;
    if (flow && !['completed', 'failed', 'unknown'].includes(await flow.getState())) {
      if (trigger !== 'resume') await deps.redis.set(AGAIN_KEY, trigger);
      deps.log.info({ runId: run.id, trigger }, 'a sync run is under way; the next starts when it ends');
      return;
    }
    // A new plan of this run (the first, or after Redis lost the last one): its own ids, so each
    // member is in exactly one batch job of the plan however often the tick is retried.
    const plan = `run-${run.id}.${await deps.redis.incr(planKey(run.id))}`;
    const members = await timeDatabase(deps.stats, () => allUnchecked(deps.db, run.startedAt));
    const batches: string[][] = [];
    for (let i = 0; i < members.length; i += WINDOW) batches.push(...(await groupByServer(deps, members.slice(i, i + WINDOW))));
    // Members who were unlinked (or whose account moved) still hold bound roles until synced once.
    const orphans = await timeDatabase(deps.stats, () => unlinkedFollowed(deps.db));
    batches.push(...inBatches(deps, orphans));
    deps.log.info({ runId: run.id, trigger: run.trigger, resumed, members: members.length, batches: batches.length }, 'sync run started');
    const startedAt = run.startedAt.getTime();
    await deps.flows.add({
      name: 'close',
      queueName: QUEUE_NAME,
      data: { kind: 'close', runId: run.id, trigger: run.trigger } satisfies JobData,
      opts: { jobId: plan, priority: PRIORITY.cycle },
      children: batches.map((ids, i) => ({
        name: 'batch',
        queueName: QUEUE_NAME,
        data: { kind: 'batch', runId: run.id, startedAt, ids } satisfies JobData,
        // A batch that failed every attempt must not hold the run open: its members wait for the next.
        opts: { jobId: `${plan}.b${i}`, priority: PRIORITY.batch, attempts: BATCH_ATTEMPTS, backoff: { type: 'fixed', delay: 1_000 }, ignoreDependencyOnFailure: true },
      })),
    });
    await deps.redis.set(flowKey(run.id), plan);
  });
}

/** One batch of a run: its members not yet checked since the run began, recorded a chunk at a time. */
export async function runBatchJob(deps: BatchDeps & { stopping: () => boolean; stats?: SyncStats }, data: Extract<JobData, { kind: 'batch' }>): Promise<BatchOutcome> {
  const done = await timeDatabase(deps.stats, () => checkedSince(deps.db, data.ids, new Date(data.startedAt)));
  const todo = data.ids.filter((id) => !done.has(id));
  const totals = noTotals();
  const changes: RunLogEntry[] = [];
  const runLog = {
    add(result: RunLogEntry) {
      const entry = runLogEntry(result);
      if (entry) changes.push(entry);
    },
  };
  for (let i = 0; i < todo.length; i += CHUNK) {
    // Failing hands the rest to another process (attempts), which skips what this one recorded.
    if (deps.stopping()) throw new Error('this process is stopping; the rest of the batch is left to another');
    await runBatch(deps, todo.slice(i, i + CHUNK), totals, runLog, { readInBulk: true }, 'throw');
  }
  return { totals, changes };
}

/** Every batch is done (or gave up): the run is closed and its log posted, once. */
export async function closeRunJob(deps: QueueCycleDeps, job: Job, data: Extract<JobData, { kind: 'close' }>): Promise<void> {
  const open = await timeDatabase(deps.stats, () => findOpenRun(deps.db));
  // Closed already: this job is a retry of one whose process died after closing.
  if (open?.id === data.runId) {
    const totals = noTotals();
    const runLog = createRunLog();
    for (const outcome of Object.values(await job.getChildrenValues<BatchOutcome>())) {
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += outcome.totals[key];
      for (const entry of outcome.changes) runLog.add(entry);
    }
    const finishedAt = new Date(deps.clock.now());
    await timeDatabase(deps.stats, () => closeRun(deps.db, data.runId, totals.checked, finishedAt));
    deps.metrics?.syncDuration.observe({ trigger: data.trigger }, (finishedAt.getTime() - open.startedAt.getTime()) / 1000);
    deps.log.info({ runId: data.runId, ...totals, finished: true }, 'sync run ended');
    await runLog.post(deps.serverLog, deps.log, `Sync run #${data.runId} (${data.trigger})`);
  }
  const again = await deps.redis.getdel(AGAIN_KEY);
  if (again) await addTick(deps.queue, again);
}

export function addTick(queue: Queue, trigger: string): Promise<Job> {
  return queue.add('tick', { kind: 'tick', trigger } satisfies JobData, { priority: PRIORITY.cycle });
}
