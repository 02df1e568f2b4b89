import { type Bind, storedBind, withName } from '../bindings';
import { among, type Database, isNotFound } from './client';

/** The binds of each listed server that has any, in a stable order. */
export async function bindsByServer(db: Database, guildIds: readonly string[]): Promise<Map<string, Bind[]>> {
  const rows = await db.bind.findMany({ where: { guildId: { in: [...guildIds] } }, orderBy: { id: 'asc' } });
  const byServer = new Map<string, Bind[]>();
  for (const row of rows) {
    const bind = storedBind(row);
    if (!bind) continue; // written only through validated commands; skip anything else
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

/**
 * `bindsByServer` for any number of servers. Prisma binds an `in` list as a parameter per id, and
 * the SQLite adapter refuses past 999; a batch's members can be in thousands of servers between them.
 */
export async function bindsOfServers(db: Database, guildIds: readonly string[]): Promise<Map<string, Bind[]>> {
  const merged = new Map<string, Bind[]>();
  for (let i = 0; i < guildIds.length; i += 500) {
    for (const [guildId, binds] of await bindsByServer(db, guildIds.slice(i, i + 500))) merged.set(guildId, binds);
  }
  return merged;
}

/** Binds of roles a server no longer has (deleted while the bot was offline), by server. */
export async function deleteBindsOfMissingRoles(db: Database, rolesByServer: ReadonlyMap<string, ReadonlySet<string>>): Promise<{ guildId: string; roleId: string }[]> {
  const bound = await db.$queryRaw<{ guildId: string; roleId: string }[]>`
    SELECT DISTINCT "guildId", "roleId" FROM "Bind" WHERE ${among(db, 'guildId', [...rolesByServer.keys()])}`;
  const gone = bound.filter((b) => !rolesByServer.get(b.guildId)?.has(b.roleId));
  for (const { guildId, roleId } of gone) await db.bind.deleteMany({ where: { guildId, roleId } });
  return gone;
}

/** Which of these servers have any bind. */
export async function serversWithBinds(db: Database, guildIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.$queryRaw<{ guildId: string }[]>`SELECT DISTINCT "guildId" FROM "Bind" WHERE ${among(db, 'guildId', guildIds)}`;
  return new Set(rows.map((row) => row.guildId));
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
    return withName(bind, row.name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Sets the elevated permissions approved for every bind of a role (see Bind.approved in the schema).
 * Returns how many binds held a different value.
 */
export async function setApproval(db: Database, guildId: string, roleId: string, approved: bigint): Promise<number> {
  const changed = await db.bind.updateMany({ where: { guildId, roleId, NOT: { approved: approved.toString() } }, data: { approved: approved.toString() } });
  return changed.count;
}

/** The approval of each bound role (or of those `only` names: one role, or the roles of some servers), by `guildId:roleId`; where a role's binds disagree, what they all approve. */
export async function approvalsByRole(db: Database, only?: { guildId: string | { in: string[] }; roleId?: string }): Promise<Map<string, bigint>> {
  const rows = await db.bind.findMany({ where: only ?? {}, select: { guildId: true, roleId: true, approved: true } });
  const byRole = new Map<string, bigint>();
  for (const row of rows) {
    const key = `${row.guildId}:${row.roleId}`;
    const approved = /^\d+$/.test(row.approved) ? BigInt(row.approved) : 0n;
    byRole.set(key, (byRole.get(key) ?? approved) & approved);
  }
  return byRole;
}
