import { type Bind, storedBind } from '../bindings';
import type { Database } from './client';

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
