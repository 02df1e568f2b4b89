import { type Bind, isBindKind } from '../bindings';
import type { Database } from './client';

/** The binds of each listed server that has any, in a stable order. */
export async function bindsByServer(db: Database, guildIds: readonly string[]): Promise<Map<string, Bind[]>> {
  const rows = await db.bind.findMany({ where: { guildId: { in: [...guildIds] } }, orderBy: { id: 'asc' } });
  const byServer = new Map<string, Bind[]>();
  for (const row of rows) {
    if (!isBindKind(row.kind)) continue; // written only through validated commands; skip anything else
    const bind: Bind = { roleId: row.roleId, kind: row.kind, itemId: row.itemId };
    const list = byServer.get(row.guildId);
    if (list) list.push(bind);
    else byServer.set(row.guildId, [bind]);
  }
  return byServer;
}

/** The binds of a deleted role go: they can never be satisfied again. Returns how many. */
export async function deleteBindsOfRole(db: Database, guildId: string, roleId: string): Promise<number> {
  return (await db.bind.deleteMany({ where: { guildId, roleId } })).count;
}

/** Binds of roles a server no longer has (deleted while the bot was offline), by server. */
export async function deleteBindsOfMissingRoles(db: Database, rolesByServer: ReadonlyMap<string, ReadonlySet<string>>): Promise<{ guildId: string; roleId: string }[]> {
  const binds = await db.bind.findMany({ where: { guildId: { in: [...rolesByServer.keys()] } }, select: { guildId: true, roleId: true } });
  const gone = binds.filter((b) => !rolesByServer.get(b.guildId)?.has(b.roleId));
  const distinct = [...new Map(gone.map((b) => [`${b.guildId}:${b.roleId}`, b])).values()];
  for (const { guildId, roleId } of distinct) await db.bind.deleteMany({ where: { guildId, roleId } });
  return distinct;
}

/** Which of these servers have any bind. */
export async function serversWithBinds(db: Database, guildIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.bind.findMany({ where: { guildId: { in: [...guildIds] } }, distinct: ['guildId'], select: { guildId: true } });
  return new Set(rows.map((row) => row.guildId));
}
