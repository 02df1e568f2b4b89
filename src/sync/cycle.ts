// The scheduled cycle: every linked member not checked since the cycle began, stalest first. Cycles
// never overlap; one asked for while another runs starts as soon as it ends. A cycle is a row in
// the database, so a restart resumes it instead of losing or repeating work.

import type { Database } from '../database/client';
import { countUnchecked, stalestUnchecked } from '../database/links';
import { serversOf } from '../database/memberships';
import { unlinkedFollowed } from '../database/membersync';
import { closeRun, findOpenRun, openRun } from '../database/syncruns';
import type { ServerLog } from '../discord/serverlog';
import type { Metrics } from '../metrics';
import { type BatchDeps, noTotals, type RunTotals, runBatch } from './batchrun';
import { createRunLog } from './runlog';
import { type SyncStats, timeDatabase } from './stats';

/** Members per batch: one gateway member request (at most 100 ids) per server covers a batch. */
export const BATCH = 100;
/** Stalest members taken at once and sorted into batches by server, so members of a server travel together. */
export const WINDOW = 10 * BATCH;

export interface Cycles {
  /** Runs a cycle; if one is under way, returns null and another starts as soon as it ends. */
  runAll(trigger: string): Promise<RunTotals | null>;
  /** Lets the members in hand finish and be recorded, then ends the cycle where it stands. */
  stop(): Promise<void>;
  /** Linked members the open cycle has still to check; 0 when none is open. */
  queueDepth(): Promise<number>;
  /** True once stop() was called. */
  stopping(): boolean;
}

export interface CycleDeps extends BatchDeps {
  serverLog: ServerLog;
  /** Settles once the membership index is current (its start-up reconciliation done). */
  indexReady: () => Promise<void>;
  metrics?: Metrics;
  stats?: SyncStats;
  /** Members per batch, BATCH unless a test spreads a small cycle over several batches (queue mode: several jobs). */
  batchSize?: number;
}

export function createCycles(deps: CycleDeps): Cycles {
  const { db, log } = deps;
  let current: Promise<RunTotals> | null = null;
  let again: string | undefined;
  let stopping = false;

  async function execute(trigger: string): Promise<RunTotals> {
    // A cycle over an index still being reconciled would miss the servers members joined meanwhile.
    await deps.indexReady();
    const totals = noTotals();
    const { run, resumed } = await openRun(db, trigger, new Date(deps.clock.now()));
    log.info({ runId: run.id, trigger: run.trigger, resumed }, 'sync run started');
    const seen = new Set<string>();
    const runLog = createRunLog();
    const options = { readInBulk: true, stopping: () => stopping };
    while (!stopping) {
      const window = (await timeDatabase(deps.stats, () => stalestUnchecked(db, run.startedAt, WINDOW))).filter((id) => !seen.has(id));
      if (window.length === 0) break;
      for (const id of window) seen.add(id);
      for (const batch of await groupByServer(deps, window)) {
        if (stopping) break;
        await runBatch(deps, batch, totals, runLog, options);
      }
    }
    // Members who were unlinked (or whose account moved) still hold bound roles until synced once.
    const orphans = await timeDatabase(deps.stats, () => unlinkedFollowed(db));
    for (const batch of inBatches(deps, orphans)) {
      if (stopping) break;
      await runBatch(deps, batch, totals, runLog, options);
    }
    // The run's count is written once, at its end or cut: a write per batch would be a commit per batch.
    const finishedAt = stopping ? undefined : new Date(deps.clock.now());
    await timeDatabase(deps.stats, () => closeRun(db, run.id, seen.size, finishedAt));
    if (finishedAt) deps.metrics?.syncDuration.observe({ trigger: run.trigger }, (finishedAt.getTime() - run.startedAt.getTime()) / 1000);
    log.info({ runId: run.id, ...totals, finished: !stopping }, 'sync run ended');
    await runLog.post(deps.serverLog, log, `Sync run #${run.id} (${run.trigger})${stopping ? ', cut short by a restart' : ''}`);
    return totals;
  }

  return {
    async runAll(trigger) {
      if (stopping) return null;
      if (current) {
        again = trigger;
        return null;
      }
      try {
        let totals: RunTotals;
        let next: string | undefined = trigger;
        do {
          again = undefined;
          current = execute(next);
          totals = await current;
          next = again;
        } while (next !== undefined && !stopping);
        return totals;
      } finally {
        current = null;
      }
    },
    async stop() {
      stopping = true;
      await current?.catch(() => undefined);
    },
    queueDepth: () => queueDepth(db),
    stopping: () => stopping,
  };
}

/** Linked members the open cycle has still to check; 0 when none is open. */
export async function queueDepth(db: Database): Promise<number> {
  const run = await findOpenRun(db);
  return run ? countUnchecked(db, run.startedAt) : 0;
}

/** The window in batches, members sorted by the servers they are in so each batch touches few servers. */
export async function groupByServer(deps: Pick<CycleDeps, 'db' | 'stats' | 'batchSize'>, window: string[]): Promise<string[][]> {
  const index = await timeDatabase(deps.stats, () => serversOf(deps.db, window));
  const key = (id: string) => (index.get(id) ?? []).join(',');
  const sorted = window.map((id) => ({ id, key: key(id) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return inBatches(deps, sorted.map((m) => m.id));
}

/** Members cut into batches, in order. */
export function inBatches(deps: Pick<CycleDeps, 'batchSize'>, ids: string[]): string[][] {
  const size = deps.batchSize ?? BATCH;
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += size) batches.push(ids.slice(i, i + size));
  return batches;
}
