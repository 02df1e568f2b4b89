// One batch of a cycle or of a /sync: synced, tallied and logged, and never allowed to stall the
// run it belongs to.

import type { Clock } from '../clock';
import type { Database } from '../database/client';
import { markChecked } from '../database/links';
import type { Logger } from '../log';
import type { MemberResult, MemberSync, SyncOptions } from './members';
import type { RunLog } from './runlog';

export interface RunTotals {
  checked: number;
  added: number;
  removed: number;
  unknown: number;
  problems: number;
}

export const noTotals = (): RunTotals => ({ checked: 0, added: 0, removed: 0, unknown: 0, problems: 0 });

export interface BatchDeps {
  db: Database;
  log: Logger;
  clock: Clock;
  sync: MemberSync;
}

/**
 * `onFailure`: 'mark' (one process's cycle, /sync) marks a failed batch's members checked so the run
 * moves on; 'throw' (a queued batch job) leaves them unchecked and fails the job, which BullMQ retries.
 */
export async function runBatch(deps: BatchDeps, ids: string[], totals: RunTotals, runLog: Pick<RunLog, 'add'>, options: SyncOptions, onFailure: 'mark' | 'throw' = 'mark'): Promise<void> {
  try {
    const onChecked = (result: MemberResult) => {
      tally(totals, result);
      runLog.add(result);
      options.onChecked?.(result);
    };
    await deps.sync.batch(ids, { ...options, onChecked });
  } catch (error) {
    // Not checked is not checked: a member who could not be locked (Redis away) or read keeps their
    // place in the run, and the retry skips only those the batch recorded.
    if (onFailure === 'throw') throw error;
    totals.problems++;
    deps.log.error({ err: error, members: ids.length }, 'batch sync failed; moving on to the next batch');
    // Mark them checked anyway, or one broken batch would stall every run behind it.
    await markChecked(deps.db, ids, new Date(deps.clock.now()));
  }
}

function tally(totals: RunTotals, result: MemberResult): void {
  totals.checked++;
  totals.unknown += result.unknown;
  for (const server of result.servers) {
    totals.added += server.added.length;
    totals.removed += server.removed.length;
    totals.problems += server.problems.length;
  }
}
