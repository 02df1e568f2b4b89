import { type Bind, isBindKind } from '../bindings';
import { type Database, isNotFound } from './client';

/** The binds of each listed server that has any, in a stable order. */
export async function bindsByServer(db: Database, guildIds: readonly string[]): Promise<Map<string, Bind[]>> {
  const rows = await db.bind.findMany({ where: { guildId: { in: [...guildIds] } }, orderBy: { id: 'asc' } });
  const byServer = new Map<string, Bind[]>();
  for (const row of rows) {
    if (!isBindKind(row.kind)) continue; // written only through validated commands; skip anything else
    const bind: Bind = { roleId: row.roleId, kind: row.kind, itemId: row.itemId, name: row.name };
    const list = byServer.get(row.guildId);
    if (list) list.push(bind);
    else byServer.set(row.guildId, [bind]);
  }
  return byServer;
}

/** Items of binds still without a name, of the kinds Roblox can name, oldest bind first. */
export async function unnamedItems(db: Database, kinds: readonly string[]): Promise<{ kind: string; itemId: string }[]> {
  return db.bind.findMany({ where: { name: null, kind: { in: [...kinds] } }, distinct: ['kind', 'itemId'], select: { kind: true, itemId: true }, orderBy: { id: 'asc' } });
}

/** Gives every bind of the item, in every server, the name Roblox gave it (a public fact). */
export async function nameItem(db: Database, item: { kind: string; itemId: string }, name: string): Promise<number> {
  return (await db.bind.updateMany({ where: { kind: item.kind, itemId: item.itemId, name: null }, data: { name } })).count;
}

/** Deletes one bind of a server; the bind as it was stored (its name included), or undefined when there was none. */
export async function removeBind(db: Database, guildId: string, bind: Bind): Promise<Bind | undefined> {
  try {
    const row = await db.bind.delete({ where: { guildId_roleId_kind_itemId: { guildId, roleId: bind.roleId, kind: bind.kind, itemId: bind.itemId } } });
    return { ...bind, name: row.name };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
