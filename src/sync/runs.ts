// Re-checking everyone: on the cron tick, or on /sync for one server. Runs never overlap, and a
// run is a row in the database, so a restart resumes it instead of losing or repeating work.

import type { Database } from '../database/client';
import type { Logger } from '../log';
import type { Clock } from '../clock';
import type { DiscordSide } from '../discord/servers';
import type { MemberResult, SyncMember } from './member';

export interface RunTotals {
  checked: number;
  added: number;
  removed: number;
  unknown: number;
  problems: number;
}

export interface SyncRuns {
  /** Re-checks every linked member not checked since the run began; null if a run is under way. */
  runAll(trigger: string): Promise<RunTotals | null>;
  /** Re-checks every linked member of one server now. */
  runServer(guildId: string): Promise<RunTotals>;
  /** Lets the current member finish, then ends the run where it stands (resumed at next start). */
  stop(): Promise<void>;
}

const BATCH = 50;

export function createSyncRuns(deps: { db: Database; discord: DiscordSide; log: Logger; clock: Clock; syncMember: SyncMember }): SyncRuns {
  const { db, log } = deps;
  let current: Promise<RunTotals> | null = null;
  let stopping = false;

  async function checkOne(discordUserId: string, totals: RunTotals): Promise<void> {
    try {
      tally(totals, await deps.syncMember(discordUserId));
    } catch (error) {
      totals.problems++;
      log.error({ err: error, discordUserId }, 'member sync failed; moving on to the next member');
      // Mark it checked anyway, or one broken member would stall every run behind it.
      await db.link.updateMany({ where: { discordUserId }, data: { checkedAt: new Date(deps.clock.now()) } });
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
      const fresh = batch.filter((row) => !seen.has(row.discordUserId));
      if (fresh.length === 0) break;
      for (const { discordUserId } of fresh) {
        if (stopping) break;
        seen.add(discordUserId);
        await checkOne(discordUserId, totals);
      }
      await db.syncRun.update({ where: { id: run.id }, data: { checked: { increment: fresh.length } } });
    }
    // Members who were unlinked (or whose account moved) still hold bound roles until synced once.
    const orphans = await db.$queryRaw<{ discordUserId: string }[]>`
      SELECT DISTINCT "discordUserId" FROM "MemberSync" WHERE "discordUserId" NOT IN (SELECT "discordUserId" FROM "Link")`;
    for (const { discordUserId } of orphans) {
      if (stopping) break;
      await checkOne(discordUserId, totals);
    }
    if (!stopping) await db.syncRun.update({ where: { id: run.id }, data: { finishedAt: new Date(deps.clock.now()) } });
    log.info({ runId: run.id, ...totals, finished: !stopping }, 'sync run ended');
    return totals;
  }

  return {
    async runAll(trigger) {
      if (current || stopping) return null;
      current = execute(trigger);
      try {
        return await current;
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
        for (const { discordUserId } of links) {
          if (stopping) break;
          await checkOne(discordUserId, totals);
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
