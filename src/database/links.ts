import { Prisma } from '../generated/prisma/client';
import { among, type Database, isPostgres } from './client';

type Tx = Pick<Database, 'link' | 'oAuthGrant'>;

export type LinkMethod = 'profile' | 'oauth';

export interface ProvenLink {
  discordUserId: string;
  robloxUserId: string;
  robloxUsername: string;
  robloxDisplayName?: string;
  method: LinkMethod;
  at: Date;
}

/**
 * Writes a proven link, inside the caller's transaction. A Roblox account has one holder: proving it
 * moves it, and the previous holder (returned) loses the link and any consent given for it. A consent
 * for a different account than the one now linked is dropped too. Only src/linkchanges.ts calls it,
 * holding the locks of both members.
 */
export async function saveLink(tx: Tx, link: ProvenLink): Promise<string | undefined> {
  const previous = await tx.link.findFirst({ where: { robloxUserId: link.robloxUserId, NOT: { discordUserId: link.discordUserId } } });
  if (previous) {
    await tx.link.delete({ where: { discordUserId: previous.discordUserId } });
    await tx.oAuthGrant.deleteMany({ where: { discordUserId: previous.discordUserId } });
  }
  await tx.oAuthGrant.deleteMany({ where: { discordUserId: link.discordUserId, NOT: { robloxUserId: link.robloxUserId } } });
  const data = { robloxUserId: link.robloxUserId, robloxUsername: link.robloxUsername, robloxDisplayName: link.robloxDisplayName ?? null, method: link.method, linkedAt: link.at, checkedAt: null };
  await tx.link.upsert({ where: { discordUserId: link.discordUserId }, create: { discordUserId: link.discordUserId, ...data }, update: data });
  return previous?.discordUserId;
}

/** Who holds the account now, if anyone. */
export async function holderOf(db: Pick<Database, 'link'>, robloxUserId: string): Promise<string | undefined> {
  return (await db.link.findUnique({ where: { robloxUserId }, select: { discordUserId: true } }))?.discordUserId;
}

/** Deletes the member's link, inside the caller's transaction, with their pending proof and the account's outcomes; the link deleted, if any. */
export async function deleteLink(tx: Pick<Database, 'link' | 'verification' | 'outcome'>, discordUserId: string): Promise<{ robloxUserId: string; robloxUsername: string } | undefined> {
  const link = await tx.link.findUnique({ where: { discordUserId } });
  if (!link) return undefined;
  await tx.link.delete({ where: { discordUserId } });
  await tx.verification.deleteMany({ where: { discordUserId } });
  await tx.outcome.deleteMany({ where: { robloxUserId: link.robloxUserId } });
  return link;
}

export interface LinkedAccount {
  robloxUserId: string;
  robloxUsername: string;
  /** Null for links made before display names were kept. */
  robloxDisplayName: string | null;
}

/** The member's link now; read inside the member's lock, so a link changed meanwhile is never used. */
export async function currentLink(db: Database, discordUserId: string): Promise<LinkedAccount | undefined> {
  const [row] = await db.$queryRaw<LinkedAccount[]>`SELECT "robloxUserId", "robloxUsername", "robloxDisplayName" FROM "Link" WHERE "discordUserId" = ${discordUserId}`;
  return row;
}

/** Which of these members are linked to which account right now (checked again as a batch is recorded). */
export async function linksAmong(db: Pick<Database, '$queryRaw'>, discordUserIds: readonly string[]): Promise<Map<string, string>> {
  if (discordUserIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ discordUserId: string; robloxUserId: string }[]>`
    SELECT "discordUserId", "robloxUserId" FROM "Link" WHERE ${among(db, 'discordUserId', discordUserIds)}`;
  return new Map(rows.map((row) => [row.discordUserId, row.robloxUserId]));
}

export async function markChecked(db: Pick<Database, '$executeRaw'>, discordUserIds: readonly string[], at: Date): Promise<void> {
  if (discordUserIds.length === 0) return;
  await db.$executeRaw`UPDATE "Link" SET "checkedAt" = ${at} WHERE ${among(db, 'discordUserId', discordUserIds)}`;
}

/** Up to `limit` links a cycle begun at `startedAt` has still to check, stalest first. */
export async function stalestUnchecked(db: Database, startedAt: Date, limit: number): Promise<string[]> {
  // SQLite sorts NULL (never checked) first on its own, in the (checkedAt, linkedAt) index's order;
  // PostgreSQL sorts it last unless told.
  const order = isPostgres(db) ? Prisma.sql`"checkedAt" NULLS FIRST, "linkedAt"` : Prisma.sql`"checkedAt", "linkedAt"`;
  const rows = await db.$queryRaw<{ discordUserId: string }[]>`
    SELECT "discordUserId" FROM "Link" WHERE "checkedAt" IS NULL OR "checkedAt" < ${startedAt}
    ORDER BY ${order} LIMIT ${limit}`;
  return rows.map((row) => row.discordUserId);
}

/** Every link a cycle begun at `startedAt` has still to check, stalest first: queue mode plans a whole run at once. */
export async function allUnchecked(db: Database, startedAt: Date): Promise<string[]> {
  const rows = await db.$queryRaw<{ discordUserId: string }[]>`
    SELECT "discordUserId" FROM "Link" WHERE "checkedAt" IS NULL OR "checkedAt" < ${startedAt}
    ORDER BY "checkedAt", "linkedAt"`;
  return rows.map((row) => row.discordUserId);
}

/** Which of these members were checked since `since`: a retried batch leaves them be. */
export async function checkedSince(db: Database, discordUserIds: readonly string[], since: Date): Promise<Set<string>> {
  if (discordUserIds.length === 0) return new Set();
  const rows = await db.$queryRaw<{ discordUserId: string }[]>`
    SELECT "discordUserId" FROM "Link" WHERE "checkedAt" >= ${since} AND ${among(db, 'discordUserId', discordUserIds)}`;
  return new Set(rows.map((row) => row.discordUserId));
}

export async function countUnchecked(db: Database, startedAt: Date): Promise<number> {
  const [row] = await db.$queryRaw<{ n: bigint | number }[]>`SELECT COUNT(*) AS "n" FROM "Link" WHERE "checkedAt" IS NULL OR "checkedAt" < ${startedAt}`;
  return Number(row?.n ?? 0);
}

/** Roblox said the account is now called `name`: a rename shows in /check and audit reasons from now on. */
export async function refreshRobloxName(db: Pick<Database, '$executeRaw'>, robloxUserId: string, name: string): Promise<void> {
  await db.$executeRaw`UPDATE "Link" SET "robloxUsername" = ${name} WHERE "robloxUserId" = ${robloxUserId} AND "robloxUsername" <> ${name}`;
}
