// Re-checking everyone: on the cron tick, or on /sync for one server. Runs never overlap, and a
// run is a row in the database, so a restart resumes it instead of losing or repeating work.

import type { Database } from '../database/client';
import type { Logger } from '../log';
import type { Clock } from '../clock';
import type { DiscordSide } from '../discord/servers';
import type { MemberResult, MemberSync, SyncOptions } from './members';

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
  /** Re-checks every linked member of one server now. */
  runServer(guildId: string): Promise<RunTotals>;
  /** Lets the members in hand finish and be recorded, then ends the run where it stands (resumed at next start). */
  stop(): Promise<void>;
}

/** Members per batch: one gateway member request (at most 100 ids) per server covers a batch. */
const BATCH = 100;

export function createSyncRuns(deps: { db: Database; discord: DiscordSide; log: Logger; clock: Clock; sync: MemberSync }): SyncRuns {
  const { db, log } = deps;
  let current: Promise<RunTotals> | null = null;
  let again: string | undefined;
  let stopping = false;

  async function checkBatch(ids: string[], totals: RunTotals, options: SyncOptions = {}): Promise<void> {
    try {
      for (const result of await deps.sync.batch(ids, { ...options, stopping: () => stopping })) tally(totals, result);
    } catch (error) {
      totals.problems++;
      log.error({ err: error, members: ids.length }, 'batch sync failed; moving on to the next batch');
      // Mark them checked anyway, or one broken batch would stall every run behind it.
      await db.link.updateMany({ where: { discordUserId: { in: ids } }, data: { checkedAt: new Date(deps.clock.now()) } });
    }
  }

  async function execute(trigger: string): Promise<RunTotals> {
    const totals: RunTotals = { checked: 0, added: 0, removed: 0, unknown: 0, problems: 0 };
    const run =
      (await db.syncRun.findFirst({ where: { finishedAt: null }, orderBy: { id: 'asc' } })) ??
      (await db.syncRun.create({ data: { trigger, startedAt: new Date(deps.clock.now()) } }));
    log.info({ runId: run.id, trigger: run.trigger, resumed: run.trigger !== trigger || run.checked > 0 }, 'sync run started');
    const seen = new Set<string>();
    while (!stopping) {
      const batch = await db.link.findMany({
        where: { OR: [{ checkedAt: null }, { checkedAt: { lt: run.startedAt } }] },
        orderBy: [{ checkedAt: { sort: 'asc', nulls: 'first' } }, { linkedAt: 'asc' }],
        select: { discordUserId: true },
        take: BATCH,
      });
      const fresh = batch.map((row) => row.discordUserId).filter((id) => !seen.has(id));
      if (fresh.length === 0) break;
      for (const id of fresh) seen.add(id);
      await checkBatch(fresh, totals, { readInBulk: true });
      await db.syncRun.update({ where: { id: run.id }, data: { checked: { increment: fresh.length } } });
    }
    // Members who were unlinked (or whose account moved) still hold bound roles until synced once.
    const orphans = await db.$queryRaw<{ discordUserId: string }[]>`
      SELECT DISTINCT "discordUserId" FROM "MemberSync" WHERE "discordUserId" NOT IN (SELECT "discordUserId" FROM "Link")`;
    for (let i = 0; i < orphans.length && !stopping; i += BATCH) await checkBatch(orphans.slice(i, i + BATCH).map((o) => o.discordUserId), totals);
    if (!stopping) await db.syncRun.update({ where: { id: run.id }, data: { finishedAt: new Date(deps.clock.now()) } });
    log.info({ runId: run.id, ...totals, finished: !stopping }, 'sync run ended');
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
    async runServer(guildId) {
      const totals: RunTotals = { checked: 0, added: 0, removed: 0, unknown: 0, problems: 0 };
      const server = deps.discord.server(guildId);
      if (!server) return totals;
      const memberIds = await server.memberIds();
      for (let i = 0; i < memberIds.length && !stopping; i += 500) {
        const links = await db.link.findMany({ where: { discordUserId: { in: memberIds.slice(i, i + 500) } }, select: { discordUserId: true } });
        for (let j = 0; j < links.length && !stopping; j += BATCH) {
          await checkBatch(links.slice(j, j + BATCH).map((l) => l.discordUserId), totals, { priority: true });
        }
      }
      return totals;
    },
    async stop() {
      stopping = true;
      await current?.catch(() => undefined);
    },
  };
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
