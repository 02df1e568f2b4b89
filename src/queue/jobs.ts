// The jobs of queue mode: their names, what each carries, and who goes first. All travel as JSON.

import type { RunTotals } from '../sync/batchrun';
import type { MemberResult } from '../sync/results';
import type { RunLogEntry } from '../sync/runlog';

export const QUEUE_NAME = 'sync';
/**
 * A member someone is waiting on (/verify, /update, a join) is a job on a queue of its own, with
 * workers of its own: the cycle's batches, a minute each, could otherwise hold every slot of the
 * sync queue's workers while a member waits.
 */
export const MEMBER_QUEUE_NAME = 'waiting';
/** Every key BullMQ writes starts with this. */
export const QUEUE_PREFIX = 'gatepass';
/** The cycle's job scheduler: one id, so every process upserting it keeps one schedule. */
export const CYCLE_SCHEDULER = 'sync-cycle';

export type JobData =
  | { kind: 'tick'; trigger: string }
  | { kind: 'batch'; runId: number; startedAt: number; ids: string[] }
  | { kind: 'close'; runId: number; trigger: string }
  | { kind: 'one'; id: string; alsoIn?: string; priority: boolean }
  | { kind: 'members'; ids: string[]; alsoIn?: string };

export interface BatchOutcome {
  totals: RunTotals;
  /** Only the members whose check changed something or met a problem, for the run's log. */
  changes: RunLogEntry[];
}

export type JobResult = MemberResult | MemberResult[] | BatchOutcome | null;

/**
 * BullMQ: lower is sooner, and a job without a priority goes before all of these, so every job
 * names one. Someone waiting (a command, a join) first (on the member queue, ahead of the one
 * members' checks nobody waits on); on the sync queue a cycle's planning and closing next (they are
 * short and unblock everything else), /sync of a server, the cycle's batches last.
 */
export const PRIORITY = { waiting: 1, cycle: 2, server: 3, background: 5, batch: 10 } as const;
