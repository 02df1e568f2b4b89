import type { Database } from './client';

/** The unverified role of each of these servers that has one. */
export async function unverifiedRoles(db: Database, guildIds: readonly string[]): Promise<Map<string, string>> {
  if (guildIds.length === 0) return new Map();
  const rows = await db.serverSettings.findMany({ where: { guildId: { in: [...guildIds] }, NOT: { unverifiedRoleId: null } }, select: { guildId: true, unverifiedRoleId: true } });
  return new Map(rows.map((row) => [row.guildId, row.unverifiedRoleId!]));
}

/** Sets (or with null clears) a server's unverified role. */
export async function setUnverifiedRole(db: Database, guildId: string, roleId: string | null): Promise<void> {
  await db.serverSettings.upsert({ where: { guildId }, create: { guildId, unverifiedRoleId: roleId }, update: { unverifiedRoleId: roleId } });
}
