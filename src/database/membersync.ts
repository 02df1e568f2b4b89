// MemberSync: the servers where the bot has synced a member, and the last problem there. Raw SQL,
// lists bound as one parameter: the sync reads and writes it for a hundred members at a time.

import type { Prisma } from '../generated/prisma/client';
import { among, type Database, rowsOf, timestamp } from './client';

export interface Followed {
  guildId: string;
  discordUserId: string;
  problem: string | null;
}

export async function loadFollowed(db: Database, discordUserIds: readonly string[]): Promise<Followed[]> {
  if (discordUserIds.length === 0) return [];
  return db.$queryRaw<Followed[]>`SELECT "guildId", "discordUserId", "problem" FROM "MemberSync" WHERE ${among(db, 'discordUserId', discordUserIds)}`;
}

/** Writes what changed: rows to drop, and rows to insert or whose problem changed (since = now). */
export async function saveFollowChanges(tx: Prisma.TransactionClient, drop: readonly Followed[], upsert: readonly Followed[], now: Date): Promise<void> {
  if (drop.length > 0) {
    await tx.$executeRaw`
      DELETE FROM "MemberSync" WHERE ("guildId", "discordUserId") IN (
        SELECT value->>0, value->>1 FROM ${rowsOf(tx, drop.map((row) => [row.guildId, row.discordUserId]))})`;
  }
  if (upsert.length > 0) {
    await tx.$executeRaw`
      INSERT INTO "MemberSync" ("guildId", "discordUserId", "problem", "since")
      SELECT value->>0, value->>1, value->>2, ${timestamp(tx, now)} FROM ${rowsOf(tx, upsert.map((row) => [row.guildId, row.discordUserId, row.problem]))} WHERE true
      ON CONFLICT ("guildId", "discordUserId") DO UPDATE SET "problem" = excluded."problem", "since" = excluded."since"`;
  }
}

/** Members still followed somewhere but no longer linked: they may hold bound roles to remove. */
export async function unlinkedFollowed(db: Database): Promise<string[]> {
  const rows = await db.$queryRaw<{ discordUserId: string }[]>`
    SELECT DISTINCT "discordUserId" FROM "MemberSync" WHERE "discordUserId" NOT IN (SELECT "discordUserId" FROM "Link")`;
  return rows.map((row) => row.discordUserId);
}

/**
 * Rows of servers the bot is no longer in, or that have no binds left: nothing there can need
 * removing, and each such row would have its member re-read every cycle forever. "No longer in" is
 * judged only for servers `held` says this process would list: another shard's servers are never
 * in `currentServers`, and the bot has not left them.
 */
export async function dropUnneeded(db: Database, currentServers: readonly string[], held: (guildId: string) => boolean): Promise<number> {
  const unlisted = await db.$queryRaw<{ guildId: string }[]>`SELECT DISTINCT "guildId" FROM "MemberSync" WHERE NOT ${among(db, 'guildId', currentServers)}`;
  const left = unlisted.map((row) => row.guildId).filter(held);
  return db.$executeRaw`
    DELETE FROM "MemberSync" WHERE ${among(db, 'guildId', left)} OR "guildId" NOT IN (SELECT DISTINCT "guildId" FROM "Bind")`;
}
