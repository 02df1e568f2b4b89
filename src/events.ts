// What the bot does when Discord tells it something: members joining and leaving keep the
// membership index current (and a linked member who joins gets their roles at once, an unlinked one
// the server's unverified role, if it has one), servers coming
// and going are reconciled or forgotten, and a deleted role's binds go.

import { type Client, Events } from 'discord.js';
import { deleteBindsOfRole } from './database/binds';
import type { Database } from './database/client';
import { currentLink } from './database/links';
import { unverifiedRoles } from './database/settings';
import type { ServerLog } from './discord/serverlog';
import type { Logger } from './log';
import type { MemberIndex } from './memberindex';
import type { Housekeeping } from './housekeeping';
import type { InFlight } from './inflight';
import type { MemberSync } from './sync/members';

export interface EventDeps {
  db: Database;
  log: Logger;
  sync: MemberSync;
  index: MemberIndex;
  serverLog: ServerLog;
  housekeeping: Housekeeping;
  /** The work events begin; a stopping bot begins none (the next start reconciles what it missed). */
  inFlight: InFlight;
}

export function handleEvents(client: Client, deps: EventDeps): void {
  const { db, log, index } = deps;
  const safely = (what: string, context: Record<string, unknown>, work: () => Promise<void>) => {
    if (deps.inFlight.stopping()) return;
    void deps.inFlight.track(work().catch((error: unknown) => log.error({ err: error, ...context }, what)));
  };

  client.on(Events.GuildMemberAdd, (member) =>
    safely('join-time sync failed', { guildId: member.guild.id, discordUserId: member.id }, async () => {
      await index.joined(member.guild.id, member.id);
      const linked = (await currentLink(db, member.id)) !== undefined;
      if (!linked && !(await unverifiedRoles(db, [member.guild.id])).has(member.guild.id)) return;
      const result = await deps.sync.one(member.id, { priority: true, alsoIn: member.guild.id });
      log.info({ guildId: member.guild.id, discordUserId: member.id, added: result.servers.find((s) => s.guildId === member.guild.id)?.added }, `synced ${linked ? 'a linked' : 'an unlinked'} member on join`);
    }),
  );
  client.on(Events.GuildMemberRemove, (member) =>
    safely('could not record a member leaving', { guildId: member.guild.id, discordUserId: member.id }, () => index.left(member.guild.id, member.id)),
  );

  // A server the bot just joined, or one back from an outage: events were missed or never seen.
  client.on(Events.GuildCreate, (guild) => index.reconcile([guild.id]));
  client.on(Events.GuildAvailable, (guild) => index.reconcile([guild.id]));
  client.on(Events.GuildDelete, (guild) =>
    safely('could not forget a server the bot left', { guildId: guild.id }, async () => {
      await index.forgetServer(guild.id);
      await deps.housekeeping.dropUnneededFollows();
    }),
  );
  // A new gateway session (not a resume) replays nothing that happened in the gap.
  // (The first session's servers are queued by the start-up housekeeping, binds first.)
  client.on(Events.ShardReady, () => client.isReady() && index.reconcile([...client.guilds.cache.keys()]));

  // A deleted role's binds can never be satisfied again: they go, and the staff are told.
  client.on(Events.GuildRoleDelete, (role) =>
    safely('could not remove the binds of a deleted role', { roleId: role.id }, async () => {
      const removed = await deleteBindsOfRole(db, role.guild.id, role.id);
      if (removed === 0) return;
      log.warn({ guildId: role.guild.id, roleId: role.id, binds: removed }, 'a bound role was deleted; its binds were removed');
      await deps.serverLog.post(role.guild.id, [`⚠️ The bound role @${role.name} was deleted, so its ${removed} bind(s) were removed.`]);
    }),
  );
}
