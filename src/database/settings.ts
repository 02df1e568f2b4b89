import type { Database } from './client';

export interface NicknameSetting {
  template: string;
  bypassRoleId?: string;
}

/** What a sync keeps right in each of these servers besides binds, in one query. */
export async function syncSettings(db: Database, guildIds: readonly string[]): Promise<{ unverified: Map<string, string>; nicknames: Map<string, NicknameSetting> }> {
  const unverified = new Map<string, string>();
  const nicknames = new Map<string, NicknameSetting>();
  // Prisma binds an `in` list as a parameter per id, and the SQLite adapter refuses past 999: a
  // batch's members can be in thousands of servers between them (as bindsOfServers).
  const rows = [];
  for (let i = 0; i < guildIds.length; i += 500) {
    rows.push(
      ...(await db.serverSettings.findMany({
        where: { guildId: { in: guildIds.slice(i, i + 500) }, OR: [{ NOT: { unverifiedRoleId: null } }, { NOT: { nicknameTemplate: null } }] },
        select: { guildId: true, unverifiedRoleId: true, nicknameTemplate: true, nicknameBypassRoleId: true },
      })),
    );
  }
  for (const row of rows) {
    if (row.unverifiedRoleId) unverified.set(row.guildId, row.unverifiedRoleId);
    if (row.nicknameTemplate) nicknames.set(row.guildId, { template: row.nicknameTemplate, bypassRoleId: row.nicknameBypassRoleId ?? undefined });
  }
  return { unverified, nicknames };
}

/** The unverified role of each of these servers that has one. */
export async function unverifiedRoles(db: Database, guildIds: readonly string[]): Promise<Map<string, string>> {
  return (await syncSettings(db, guildIds)).unverified;
}

export interface SettingChanges {
  unverifiedRoleId?: string | null;
  nicknameTemplate?: string | null;
  nicknameBypassRoleId?: string | null;
}

/** Saves the given settings of a server (null clears one). */
export async function saveSettings(db: Database, guildId: string, changes: SettingChanges): Promise<void> {
  await db.serverSettings.upsert({ where: { guildId }, create: { guildId, ...changes }, update: changes });
}

/** A server's settings as stored, for /settings show. */
export async function settingsOf(db: Database, guildId: string): Promise<SettingChanges> {
  return (await db.serverSettings.findUnique({ where: { guildId }, select: { unverifiedRoleId: true, nicknameTemplate: true, nicknameBypassRoleId: true } })) ?? {};
}
