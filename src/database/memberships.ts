// The membership index (which servers each member is in), in raw SQL with lists bound as one
// parameter, like outcomes: a cycle asks it about a hundred members at a time, a reconciliation
// writes a thousand rows a page.

import { among, type Database, rowsOf, timestamp } from './client';

/** The servers the index names for each member (members in none are absent from the map). */
export async function serversOf(db: Database, discordUserIds: readonly string[]): Promise<Map<string, string[]>> {
  const byMember = new Map<string, string[]>();
  if (discordUserIds.length === 0) return byMember;
  const rows = await db.$queryRaw<{ guildId: string; discordUserId: string }[]>`
    SELECT "guildId", "discordUserId" FROM "Membership" WHERE ${among(db, 'discordUserId', discordUserIds)} ORDER BY "guildId"`;
  for (const { guildId, discordUserId } of rows) {
    const list = byMember.get(discordUserId);
    if (list) list.push(guildId);
    else byMember.set(discordUserId, [guildId]);
  }
  return byMember;
}

/** Members seen in a server at `at` (an event, a read or a reconciliation page). */
export async function markPresent(db: Database, guildId: string, discordUserIds: readonly string[], at: Date): Promise<void> {
  if (discordUserIds.length === 0) return;
  await db.$executeRaw`
    INSERT INTO "Membership" ("guildId", "discordUserId", "seenAt")
    SELECT ${guildId}, value, ${timestamp(db, at)} FROM ${rowsOf(db, discordUserIds)} WHERE true
    ON CONFLICT ("guildId", "discordUserId") DO UPDATE SET "seenAt" = excluded."seenAt"`;
}

/** Members who left a server (an event, or a read that found them absent); nothing there is followed for them any more. */
export async function markAbsent(db: Database, guildId: string, discordUserIds: readonly string[]): Promise<void> {
  if (discordUserIds.length === 0) return;
  await db.$transaction([
    db.$executeRaw`DELETE FROM "Membership" WHERE "guildId" = ${guildId} AND ${among(db, 'discordUserId', discordUserIds)}`,
    db.$executeRaw`DELETE FROM "MemberSync" WHERE "guildId" = ${guildId} AND ${among(db, 'discordUserId', discordUserIds)}`,
  ]);
}

/**
 * Ends a reconciliation: members not seen since it began left while nobody was listening. Their
 * MemberSync rows go too, since nothing can be changed for them there. Returns how many left.
 */
export async function dropUnseen(db: Database, guildId: string, since: Date): Promise<number> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`
      DELETE FROM "MemberSync" WHERE "guildId" = ${guildId} AND "discordUserId" IN (
        SELECT "discordUserId" FROM "Membership" WHERE "guildId" = ${guildId} AND "seenAt" < ${since})`;
    return tx.$executeRaw`DELETE FROM "Membership" WHERE "guildId" = ${guildId} AND "seenAt" < ${since}`;
  });
}

/** The bot left these servers: nothing in them concerns it any more. */
export async function forgetServers(db: Database, guildIds: readonly string[]): Promise<void> {
  if (guildIds.length === 0) return;
  await db.$transaction([
    db.$executeRaw`DELETE FROM "Membership" WHERE ${among(db, 'guildId', guildIds)}`,
    db.$executeRaw`DELETE FROM "MemberSync" WHERE ${among(db, 'guildId', guildIds)}`,
  ]);
}

/** Servers the index holds rows for that are not among `current` (left while the bot was offline). */
export async function serversNotAmong(db: Database, current: readonly string[]): Promise<string[]> {
  const rows = await db.$queryRaw<{ guildId: string }[]>`
    SELECT DISTINCT "guildId" FROM "Membership" WHERE NOT ${among(db, 'guildId', current)}`;
  return rows.map((row) => row.guildId);
}

/** A page of a server's linked members, by id, from the index: /sync never lists the whole server at once. */
export async function linkedMembersOf(db: Database, guildId: string, after: string, limit: number): Promise<string[]> {
  const rows = await db.$queryRaw<{ discordUserId: string }[]>`
    SELECT m."discordUserId" FROM "Membership" m JOIN "Link" l ON l."discordUserId" = m."discordUserId"
    WHERE m."guildId" = ${guildId} AND m."discordUserId" > ${after} ORDER BY m."discordUserId" LIMIT ${limit}`;
  return rows.map((row) => row.discordUserId);
}

/** How many linked members the index names in a server. */
export async function countLinkedMembersOf(db: Database, guildId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ n: bigint | number }[]>`
    SELECT COUNT(*) AS "n" FROM "Membership" m JOIN "Link" l ON l."discordUserId" = m."discordUserId" WHERE m."guildId" = ${guildId}`;
  return Number(row?.n ?? 0);
}

/** A page of a server's members in the index, by id: the unverified-role pass never holds a whole server (Prisma's API: no SQL to keep per database). */
export async function membersOf(db: Database, guildId: string, after: string, limit: number): Promise<string[]> {
  const rows = await db.membership.findMany({ where: { guildId, discordUserId: { gt: after } }, orderBy: { discordUserId: 'asc' }, take: limit, select: { discordUserId: true } });
  return rows.map((row) => row.discordUserId);
}
