// /sync: every linked member of one server, now, as priority work. One at a time per server; the
// members come from the membership index a page at a time, so a server of any size is synced in
// bounded memory and without asking Discord for its whole member list.

import { countLinkedMembersOf, linkedMembersOf } from '../database/memberships';
import type { ServerLog } from '../discord/serverlog';
import { type BatchDeps, noTotals, type RunTotals, runBatch } from './batchrun';
import { BATCH } from './cycle';
import { createRunLog } from './runlog';

export interface ServerProgress {
  /** Linked members of the server to check, and how many are done. */
  total: number;
  done: number;
  totals: RunTotals;
}

export type ServerSyncResult = { kind: 'done'; progress: ServerProgress } | { kind: 'busy'; progress: ServerProgress };

export function createServerSyncs(deps: BatchDeps & { serverLog: ServerLog; stopping: () => boolean }) {
  const running = new Map<string, ServerProgress>();
  return async function runServer(guildId: string, onProgress?: (progress: ServerProgress) => void): Promise<ServerSyncResult> {
    const busy = running.get(guildId);
    if (busy) return { kind: 'busy', progress: busy };
    const progress: ServerProgress = { total: 0, done: 0, totals: noTotals() };
    running.set(guildId, progress);
    try {
      progress.total = await countLinkedMembersOf(deps.db, guildId);
      onProgress?.(progress);
      const runLog = createRunLog();
      const onChecked = () => {
        progress.done++;
        onProgress?.(progress);
      };
      for (let after = ''; !deps.stopping(); ) {
        const page = await linkedMembersOf(deps.db, guildId, after, BATCH);
        if (page.length === 0) break;
        after = page[page.length - 1]!;
        await runBatch(deps, page, progress.totals, runLog, { priority: true, readInBulk: true, alsoIn: guildId, stopping: deps.stopping, onChecked });
      }
      await runLog.post(deps.serverLog, deps.log, '/sync of this server');
      return { kind: 'done', progress };
    } finally {
      running.delete(guildId);
    }
  };
}
