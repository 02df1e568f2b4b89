/** Where a cycle's time goes, for benchmarks. Wall time, so Prisma's own work counts as database time. */
export interface SyncStats {
  planMs: number;
  dbMs: number;
}

/** Runs `work`, adding how long it took to `stats.dbMs`. Callers never overlap database work with itself. */
export async function timeDatabase<T>(stats: SyncStats | undefined, work: () => Promise<T>): Promise<T> {
  if (!stats) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    stats.dbMs += performance.now() - started;
  }
}
