// Keeps the membership index current. Gateway events move members in and out as they join and
// leave; a server whose events may have been missed — every server at start (the bot was offline),
// one that comes back from an outage, one the bot just joined, all of them after the gateway
// session was lost — is reconciled by paging through its members with REST List Guild Members,
// a thousand at a time, one page per `pageIntervalMs` across all servers: memory stays one page,
// and the REST budget the role writes need is never crowded out. Servers are reconciled one at a
// time, in the order they were queued (at start, those with binds first).

import type { Clock } from './clock';
import type { Database } from './database/client';
import { dropUnseen, forgetServers, markAbsent, markPresent } from './database/memberships';
import type { DiscordSide } from './discord/servers';
import type { Logger } from './log';

/** Discord's largest page of List Guild Members. */
const PAGE = 1000;

export interface MemberIndex {
  joined(guildId: string, discordUserId: string): Promise<void>;
  left(guildId: string, discordUserId: string): Promise<void>;
  /** The bot left the server: its rows go. */
  forgetServer(guildId: string): Promise<void>;
  /** Queues servers whose events may have been missed, in the order given. */
  reconcile(guildIds: readonly string[]): void;
  /** Settles once no reconciliation is queued or running. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export function createMemberIndex(deps: { db: Database; discord: DiscordSide; log: Logger; clock: Clock; pageIntervalMs: number }): MemberIndex {
  const { db, log, clock } = deps;
  const queue = new Set<string>();
  let worker: Promise<void> | undefined;
  let stopping = false;
  let lastPage = 0;

  const paced = async () => {
    const wait = lastPage + deps.pageIntervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastPage = Date.now();
  };

  async function reconcileOne(guildId: string): Promise<void> {
    const since = new Date(clock.now());
    let seen = 0;
    for (let after = '0'; !stopping; ) {
      const server = deps.discord.server(guildId);
      if (!server) return; // left or unavailable meanwhile: it is queued again when it comes back
      await paced();
      const page = await server.listMembers(after, PAGE);
      await markPresent(db, guildId, page, since);
      seen += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!;
    }
    if (stopping) return;
    const gone = await dropUnseen(db, guildId, since);
    log.debug({ guildId, members: seen, left: gone }, 'membership index reconciled');
  }

  async function drain(): Promise<void> {
    while (!stopping && queue.size > 0) {
      const guildId = queue.values().next().value as string;
      queue.delete(guildId);
      await reconcileOne(guildId).catch((error: unknown) => log.warn({ err: error, guildId }, 'could not reconcile the membership index of a server; its events still keep it current'));
    }
    worker = undefined;
  }

  return {
    joined: (guildId, discordUserId) => markPresent(db, guildId, [discordUserId], new Date(clock.now())),
    left: (guildId, discordUserId) => markAbsent(db, guildId, [discordUserId]),
    forgetServer: async (guildId) => {
      queue.delete(guildId);
      await forgetServers(db, [guildId]);
    },
    reconcile(guildIds) {
      for (const guildId of guildIds) queue.add(guildId);
      // Nothing queued (a shard process holding no server): drain() would end before `worker` is
      // assigned, leave it set for good, and settled() would spin on it without ever yielding.
      if (!worker && !stopping && queue.size > 0) worker = drain();
    },
    async settled() {
      while (worker) await worker;
    },
    async stop() {
      stopping = true;
      await worker;
    },
  };
}
