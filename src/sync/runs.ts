// Re-checking many members: the scheduled cycle (cycle.ts) and /sync of one server (serversync.ts),
// behind one face for the commands and the scheduler.

import type { ServerLog } from '../discord/serverlog';
import type { Metrics } from '../metrics';
import type { BatchDeps, RunTotals } from './batchrun';
import { createCycles } from './cycle';
import { createServerSyncs, type ServerProgress, type ServerSyncResult } from './serversync';
import type { SyncStats } from './stats';

export type { RunTotals } from './batchrun';
export type { ServerProgress } from './serversync';

export interface SyncRuns {
  /**
   * Re-checks every linked member not checked since the run began, stalest first. If a run is
   * under way, returns null and starts another as soon as it ends: cycles follow each other
   * when the population needs longer than the schedule's interval.
   */
  runAll(trigger: string): Promise<RunTotals | null>;
  /**
   * Re-checks every linked member of one server now, telling `onProgress` as each member is done. One at a
   * time per server: while one runs, another call gets `busy` and that run's progress.
   */
  runServer(guildId: string, onProgress?: (progress: ServerProgress) => void): Promise<ServerSyncResult>;
  /** Lets the members in hand finish and be recorded, then ends the run where it stands (resumed at next start). */
  stop(): Promise<void>;
  /** Linked members the open cycle has still to check; 0 when none is open. */
  queueDepth(): Promise<number>;
}

export function createSyncRuns(deps: BatchDeps & { serverLog: ServerLog; indexReady: () => Promise<void>; metrics?: Metrics; stats?: SyncStats }): SyncRuns {
  const cycles = createCycles(deps);
  const runServer = createServerSyncs({ ...deps, stopping: cycles.stopping });
  return { runAll: cycles.runAll, runServer, stop: cycles.stop, queueDepth: cycles.queueDepth };
}
