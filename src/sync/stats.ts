/** Where a cycle's time goes, for benchmarks. Wall time, so Prisma's own work counts as database time. */
export interface SyncStats {
  planMs: number;
  /** Every database step's time, summed: steps running side by side each count whole, so this errs high. */
  dbMs: number;
  /**
   * Time with at least one database step under way: steps side by side count once. With many checks
   * at a time (queue mode runs several batches at once) the sum above counts waits for a pooled
   * connection many times over; this does not.
   */
  dbBusyMs?: number;
}

/** Database steps under way per stats, and since when the first of them. */
const underWay = new WeakMap<SyncStats, { steps: number; since: number }>();

/**
 * Runs `work`, adding how long it took to `stats.dbMs`, and to `stats.dbBusyMs` the time no other
 * step was under way.
 */
export async function timeDatabase<T>(stats: SyncStats | undefined, work: () => Promise<T>): Promise<T> {
  if (!stats) return work();
  const started = performance.now();
  const busy = underWay.get(stats) ?? { steps: 0, since: started };
  underWay.set(stats, busy);
  if (busy.steps++ === 0) busy.since = started;
  try {
    return await work();
  } finally {
    const ended = performance.now();
    stats.dbMs += ended - started;
    if (--busy.steps === 0 && stats.dbBusyMs !== undefined) stats.dbBusyMs += ended - busy.since;
  }
}
