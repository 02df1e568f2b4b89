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

/**
 * Sets the elevated permissions approved for every bind of a role (see Bind.approved in the schema).
 * Returns how many binds held a different value.
 */
export async function setApproval(db: Database, guildId: string, roleId: string, approved: bigint): Promise<number> {
  const changed = await db.bind.updateMany({ where: { guildId, roleId, NOT: { approved: approved.toString() } }, data: { approved: approved.toString() } });
  return changed.count;
}

/** The approval of each bound role (or of `only`), by `guildId:roleId`; where a role's binds disagree, what they all approve. */
export async function approvalsByRole(db: Database, only?: { guildId: string; roleId: string }): Promise<Map<string, bigint>> {
  const rows = await db.bind.findMany({ where: only ?? {}, select: { guildId: true, roleId: true, approved: true } });
  const byRole = new Map<string, bigint>();
  for (const row of rows) {
    const key = `${row.guildId}:${row.roleId}`;
    const approved = /^\d+$/.test(row.approved) ? BigInt(row.approved) : 0n;
    byRole.set(key, (byRole.get(key) ?? approved) & approved);
  }
  return byRole;
}
