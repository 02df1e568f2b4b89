// Which elevated permissions an owner or Administrator approved for each bound role (Bind.approved),
// kept in memory: the sync judges every bound role of every member it checks, so this is read far
// more than it changes. Loaded at start and refreshed by every /bind change (binds removed anywhere
// else are those of deleted roles, never given anyway). A role it does not know has approved nothing.

import { approvalsByRole } from './database/binds';
import type { Database } from './database/client';

export interface Approvals {
  of(guildId: string, roleId: string): bigint;
  /**
   * The approvals of these servers read from the database now, for servers another process holds:
   * their /bind changes refresh that process's memory, not this one's.
   */
  read(guildIds: readonly string[]): Promise<Approvals['of']>;
  /** Re-reads one role's approval after its binds changed. */
  refresh(guildId: string, roleId: string): Promise<void>;
}

export async function loadApprovals(db: Database): Promise<Approvals> {
  const byRole = await approvalsByRole(db);
  return {
    of: (guildId, roleId) => byRole.get(`${guildId}:${roleId}`) ?? 0n,
    async read(guildIds) {
      const read = await approvalsByRole(db, { guildId: { in: [...guildIds] } });
      return (guildId, roleId) => read.get(`${guildId}:${roleId}`) ?? 0n;
    },
    async refresh(guildId, roleId) {
      const key = `${guildId}:${roleId}`;
      const approved = (await approvalsByRole(db, { guildId, roleId })).get(key);
      if (approved === undefined) byRole.delete(key);
      else byRole.set(key, approved);
    },
  };
}
