// Re-checking everyone: on the cron tick, or on /sync for one server. Runs never overlap, and a
// run is a row in the database, so a restart resumes it instead of losing or repeating work.

import { among, type Database } from '../database/client';
import type { Logger } from '../log';
import type { Clock } from '../clock';
import type { ServerLog } from '../discord/serverlog';
import type { DiscordSide } from '../discord/servers';
import type { Metrics } from '../metrics';
import type { MemberResult, MemberSync, SyncOptions } from './members';
import { createRunLog } from './runlog';
import { type SyncStats, timeDatabase } from './stats';

export interface RunTotals {
  checked: number;
  added: number;
  removed: number;
  unknown: number;
  problems: number;
}

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
  runServer(guildId: string, onProgress?: (progress: ServerProgress) => void): Promise<{ kind: 'done'; progress: ServerProgress } | { kind: 'busy'; progress: ServerProgress }>;
  /** Lets the members in hand finish and be recorded, then ends the run where it stands (resumed at next start). */
  stop(): Promise<void>;
  /** Linked members the open cycle has still to check; 0 when none is open. */
  queueDepth(): Promise<number>;
}

export interface ServerProgress {
  /** Linked members of the server to check, and how many are done. */
  total: number;
  done: number;
  totals: RunTotals;
}

/** Members per batch: one gateway member request (at most 100 ids) per server covers a batch. */
const BATCH = 100;

export function createSyncRuns(deps: { db: Database; discord: DiscordSide; log: Logger; clock: Clock; sync: MemberSync; serverLog: ServerLog; metrics?: Metrics; stats?: SyncStats }): SyncRuns {
  const { db, log } = deps;
  let current: Promise<RunTotals> | null = null;
  let again: string | undefined;
  let stopping = false;
  const serverRuns = new Map<string, ServerProgress>();

  async function checkBatch(ids: string[], totals: RunTotals, runLog: ReturnType<typeof createRunLog>, options: SyncOptions = {}): Promise<void> {
    try {
      const onChecked = (result: MemberResult) => {
        tally(totals, result);
        runLog.add(result);
        options.onChecked?.(result);
      };
      await deps.sync.batch(ids, { ...options, stopping: () => stopping, onChecked });
    } catch (error) {
      totals.problems++;
      log.error({ err: error, members: ids.length }, 'batch sync failed; moving on to the next batch');
      // Mark them checked anyway, or one broken batch would stall every run behind it.
      await db.link.updateMany({ where: { discordUserId: { in: ids } }, data: { checkedAt: new Date(deps.clock.now()) } });
    }
  }

  async function execute(trigger: string): Promise<RunTotals> {
    const totals: RunTotals = { checked: 0, added: 0, removed: 0, unknown: 0, problems: 0 };
    const open = await db.syncRun.findFirst({ where: { finishedAt: null }, orderBy: { id: 'asc' } });
    const run = open ?? (await db.syncRun.create({ data: { trigger, startedAt: new Date(deps.clock.now()) } }));
    log.info({ runId: run.id, trigger: run.trigger, resumed: open !== null }, 'sync run started');
    const seen = new Set<string>();
    const runLog = createRunLog();
    while (!stopping) {
      const batch = await timeDatabase(deps.stats, () =>
        db.link.findMany({
          where: notCheckedSince(run.startedAt),
          // SQLite sorts NULL (never checked) first on its own; asking Prisma for it would order by
          // a CASE expression that no index serves, a sort of every link for each batch.
          orderBy: [{ checkedAt: 'asc' }, { linkedAt: 'asc' }],
          select: { discordUserId: true },
          take: BATCH,
        }),
      );
      const fresh = batch.map((row) => row.discordUserId).filter((id) => !seen.has(id));
      if (fresh.length === 0) break;
      for (const id of fresh) seen.add(id);
      await checkBatch(fresh, totals, runLog, { readInBulk: true });
    }
    // Members who were unlinked (or whose account moved) still hold bound roles until synced once.
    const orphans = await timeDatabase(deps.stats, () =>
      db.$queryRaw<{ discordUserId: string }[]>`
        SELECT DISTINCT "discordUserId" FROM "MemberSync" WHERE "discordUserId" NOT IN (SELECT "discordUserId" FROM "Link")`,
    );
    for (let i = 0; i < orphans.length && !stopping; i += BATCH) await checkBatch(orphans.slice(i, i + BATCH).map((o) => o.discordUserId), totals, runLog);
    // The run's count is written once, at its end or cut: a write per batch would be a commit per batch.
    const finishedAt = stopping ? undefined : new Date(deps.clock.now());
    await timeDatabase(deps.stats, () => db.syncRun.update({ where: { id: run.id }, data: { finishedAt, checked: { increment: seen.size } } }));
    if (finishedAt) deps.metrics?.syncDuration.observe({ trigger: run.trigger }, (finishedAt.getTime() - run.startedAt.getTime()) / 1000);
    log.info({ runId: run.id, ...totals, finished: !stopping }, 'sync run ended');
    await runLog.post(deps.serverLog, `Sync run #${run.id} (${run.trigger})${stopping ? ', cut short by a restart' : ''}`);
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
    async runServer(guildId, onProgress) {
      const running = serverRuns.get(guildId);
      if (running) return { kind: 'busy', progress: running };
      const progress: ServerProgress = { total: 0, done: 0, totals: { checked: 0, added: 0, removed: 0, unknown: 0, problems: 0 } };
      serverRuns.set(guildId, progress);
      try {
        const server = deps.discord.server(guildId);
        const memberIds = server ? await server.memberIds() : [];
        const links = await db.$queryRaw<{ discordUserId: string }[]>`SELECT "discordUserId" FROM "Link" WHERE ${among('discordUserId', memberIds)}`;
        const linked = links.map((l) => l.discordUserId);
        progress.total = linked.length;
        onProgress?.(progress);
        const runLog = createRunLog();
        for (let i = 0; i < linked.length && !stopping; i += BATCH) {
          const onChecked = () => {
            progress.done++;
            onProgress?.(progress);
          };
          await checkBatch(linked.slice(i, i + BATCH), progress.totals, runLog, { priority: true, onChecked });
        }
        await runLog.post(deps.serverLog, '/sync of this server');
        return { kind: 'done', progress };
      } finally {
        serverRuns.delete(guildId);
      }
    },
    async stop() {
      stopping = true;
      await current?.catch(() => undefined);
    },
    async queueDepth() {
      const run = await db.syncRun.findFirst({ where: { finishedAt: null }, orderBy: { id: 'asc' } });
      return run ? db.link.count({ where: notCheckedSince(run.startedAt) }) : 0;
    },
  };
}

/** Links a cycle that began at `startedAt` has still to check. */
const notCheckedSince = (startedAt: Date) => ({ OR: [{ checkedAt: null }, { checkedAt: { lt: startedAt } }] });

function tally(totals: RunTotals, result: MemberResult): void {
  totals.checked++;
  totals.unknown += result.unknown;
  for (const server of result.servers) {
    totals.added += server.added.length;
    totals.removed += server.removed.length;
    totals.problems += server.problems.length;
  }
}
