// The unverified role (/settings unverified-role): members with no linked account have it. Each
// member's sync decides it (src/unverifiedplan.ts), and syncs already follow every way a member
// becomes unlinked or linked: a join (src/events.ts syncs unlinked joiners of a server that has the
// role), /unlink and a new link. The scheduled cycle walks linked members only, so when a server
// sets the role, at start-up and on /sync, one paced pass walks that server's members in the
// membership index, a page at a time (memory stays one page), and syncs the unlinked ones among them.

import type { GuildMember, Role } from 'discord.js';
import { bindsOfServers } from './database/binds';
import type { Database } from './database/client';
import { linksAmong } from './database/links';
import { membersOf } from './database/memberships';
import { saveSettings, unverifiedRoles } from './database/settings';
import type { ServerLog } from './discord/serverlog';
import type { DiscordSide } from './discord/servers';
import type { Logger } from './log';
import { describePermissions, elevatedIn, roleRefusal } from './permissions';
import { roleMention, userMention } from './reports';
import type { MemberSync } from './sync/members';

/** Members per page of the pass: one bulk gateway read each where enough are unlinked. */
const PAGE = 100;

export interface UnverifiedPass {
  /** Queues a pass over the server's members (again, if one is queued or running). */
  start(guildId: string): void;
  /**
   * Queues a pass for each of these servers that has an unverified role: at start-up (members who
   * joined while the bot was offline) and on /sync, the two moments nothing else reaches them.
   */
  startWhereSet(guildIds: readonly string[]): Promise<void>;
  /** Settles once no pass is queued or running. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export function createUnverifiedPass(deps: { db: Database; sync: MemberSync; log: Logger; indexReady: () => Promise<void>; pageIntervalMs: number }): UnverifiedPass {
  // One pass per server at a time; a server set again while its pass runs is walked once more after it.
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let stopped = false;
  const stopping = () => stopped;

  async function pass(guildId: string): Promise<void> {
    // The index must hold the server's members before it can be walked.
    await deps.indexReady();
    let synced = 0;
    for (let after = ''; !stopping(); ) {
      const page = await membersOf(deps.db, guildId, after, PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1]!;
      const linked = await linksAmong(deps.db, page);
      const unlinked = page.filter((id) => !linked.has(id));
      if (unlinked.length > 0) synced += (await deps.sync.batch(unlinked, { readInBulk: true, alsoIn: guildId, stopping })).length;
      await new Promise((r) => setTimeout(r, deps.pageIntervalMs));
    }
    deps.log.info({ guildId, members: synced }, 'unverified-role pass done');
  }

  return {
    start(guildId) {
      if (stopped) return;
      if (running.has(guildId)) {
        again.add(guildId);
        return;
      }
      const run = (async () => {
        do {
          again.delete(guildId);
          await pass(guildId).catch((error: unknown) => deps.log.warn({ err: error, guildId }, 'the unverified-role pass failed; joins, links and unlinks still keep the role right'));
        } while (again.has(guildId) && !stopped);
      })().finally(() => running.delete(guildId));
      running.set(guildId, run);
    },
    async startWhereSet(guildIds) {
      for (const guildId of (await unverifiedRoles(deps.db, guildIds)).keys()) this.start(guildId);
    },
    async settled() {
      while (running.size > 0) await Promise.all(running.values());
    },
    async stop() {
      stopped = true;
      await Promise.all(running.values());
    },
  };
}

export interface UnverifiedDeps {
  db: Database;
  discord: DiscordSide;
  serverLog: ServerLog;
  unverifiedPass: UnverifiedPass;
}

/**
 * Sets (or with no role clears) the server's unverified role for `member`, and says what happens.
 * The rules of binds hold: the invoker must be able to give the role by hand and the bot must be
 * able to manage it. Staff powers are refused to everyone: this role goes to every member without a link.
 */
export async function chooseUnverifiedRole(deps: UnverifiedDeps, member: GuildMember, role: Role | undefined): Promise<{ ok: true; reply: string } | { ok: false; error: string }> {
  const guildId = member.guild.id;
  if (!role) {
    await saveSettings(deps.db, guildId, { unverifiedRoleId: null });
    await deps.serverLog.post(guildId, [`⚙️ ${userMention(member.id)} turned the unverified role off.`]);
    return { ok: true, reply: 'Unverified role turned off. Members who have it keep it; remove it by hand if it should go.' };
  }
  const refusal = roleRefusal(member, role, 'bind');
  if (refusal) return { ok: false, error: refusal };
  const elevated = elevatedIn(role.permissions.bitfield);
  if (elevated !== 0n) return { ok: false, error: `@${role.name} carries ${describePermissions(elevated)}: the unverified role goes to everyone without a linked account, so it may not carry staff powers. Nothing was changed.` };
  const access = deps.discord.server(guildId)?.roleAccess(role.id) ?? { ok: false, reason: 'the server is unavailable just now' };
  if (!access.ok) return { ok: false, error: `I cannot manage @${role.name}: ${access.reason}. Nothing was changed.` };
  if ((await bindsOfServers(deps.db, [guildId])).get(guildId)?.some((b) => b.roleId === role.id)) {
    return { ok: false, error: `@${role.name} is bound (\`/bind list\`): a role is either earned through binds or the unverified role, not both. Nothing was changed.` };
  }
  await saveSettings(deps.db, guildId, { unverifiedRoleId: role.id });
  await deps.serverLog.post(guildId, [`⚙️ ${userMention(member.id)} set the unverified role to ${roleMention(role.id)}.`]);
  deps.unverifiedPass.start(guildId);
  return {
    ok: true,
    reply: `Members without a linked Roblox account get ${roleMention(role.id)}: those who join or unlink at once, those already here over the next minutes. Linking takes it away.`,
  };
}
