// Keeping the database to what is still true: at start, what changed while the bot was offline
// (roles deleted, servers left); at each cron tick, expired proofs and follows nobody needs. In a
// shard process, only its own shards' servers are judged: the rest are another process's.

import type { Clock } from './clock';
import { deleteBindsOfMissingRoles, serversWithBinds } from './database/binds';
import type { Database } from './database/client';
import { purgeExpired } from './database/expiry';
import { forgetServers, serversNotAmong } from './database/memberships';
import { dropUnneeded } from './database/membersync';
import type { ServerLog } from './discord/serverlog';
import type { DiscordSide } from './discord/servers';
import type { Logger } from './log';
import type { MemberIndex } from './memberindex';

export interface Housekeeping {
  /** After connecting: tidies what changed offline and queues every server's reconciliation. */
  atStart(): Promise<void>;
  /** At each cron tick. */
  onTick(): Promise<void>;
  dropUnneededFollows(): Promise<void>;
}

export function createHousekeeping(deps: { db: Database; discord: DiscordSide; index: MemberIndex; serverLog: ServerLog; log: Logger; clock: Clock }): Housekeeping {
  const { db, discord, log } = deps;
  const dropUnneededFollows = async () => {
    const dropped = await dropUnneeded(db, discord.serverIds(), discord.holds);
    if (dropped > 0) log.info({ rows: dropped }, 'stopped following members in servers the bot left or that have no binds');
  };
  return {
    dropUnneededFollows,
    async atStart() {
      const servers = discord.serverIds();
      const roles = new Map(servers.flatMap((id) => {
        const server = discord.server(id);
        return server ? [[id, server.roleIds()] as const] : [];
      }));
      for (const { guildId, roleId } of await deleteBindsOfMissingRoles(db, roles)) {
        log.warn({ guildId, roleId }, 'a bound role was deleted while the bot was offline; its binds were removed');
        await deps.serverLog.post(guildId, [`⚠️ A bound role (id ${roleId}) was deleted while the bot was offline, so its binds were removed.`]);
      }
      // Servers the bot left while offline; another shard's servers are not listed here, and not left.
      await forgetServers(db, (await serversNotAmong(db, servers)).filter(discord.holds));
      await dropUnneededFollows();
      const bound = await serversWithBinds(db, servers);
      deps.index.reconcile([...servers.filter((id) => bound.has(id)), ...servers.filter((id) => !bound.has(id))]);
    },
    async onTick() {
      const purged = await purgeExpired(db, new Date(deps.clock.now()));
      if (purged.codes + purged.signIns > 0) log.debug(purged, 'expired verification codes and sign-in states purged');
      await dropUnneededFollows();
    },
  };
}
