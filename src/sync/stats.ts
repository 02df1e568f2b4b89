/** Where a cycle's time goes, for benchmarks. Wall time, so Prisma's own work counts as database time. */
export interface SyncStats {
  planMs: number;
  dbMs: number;
}

/**
 * Runs `work`, adding how long it took to `stats.dbMs`. The link reads of checks running side by
 * side overlap, and each is counted whole, so the figure errs high, never low.
 */
export async function timeDatabase<T>(stats: SyncStats | undefined, work: () => Promise<T>): Promise<T> {
  if (!stats) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    stats.dbMs += performance.now() - started;
  }
}
