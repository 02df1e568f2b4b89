// A run's role changes and problems per server, posted as one log message per server at its end
// (never one per member). Bounded: past a few dozen lines only the counts grow.

import type { ServerLog } from '../discord/serverlog';
import type { Logger } from '../log';
import { roleMention, userMention } from '../reports';
import type { MemberResult, ServerResult } from './results';

/** What a run log needs of a member's result: small enough to travel between processes as a job's result. */
export type RunLogEntry = Pick<MemberResult, 'discordUserId'> & { servers: Pick<ServerResult, 'guildId' | 'added' | 'removed' | 'problems'>[] };

/** A result cut down to what the run log reads; undefined when it changed nothing and had no problem. */
export function runLogEntry(result: RunLogEntry): RunLogEntry | undefined {
  const servers = result.servers.filter((s) => s.added.length + s.removed.length + s.problems.length > 0).map(({ guildId, added, removed, problems }) => ({ guildId, added, removed, problems }));
  return servers.length > 0 ? { discordUserId: result.discordUserId, servers } : undefined;
}

const MAX_LINES = 25;

interface ServerChanges {
  added: number;
  removed: number;
  lines: string[];
  unlisted: number;
  problems: Set<string>;
}

export type RunLog = ReturnType<typeof createRunLog>;

export function createRunLog() {
  const servers = new Map<string, ServerChanges>();
  return {
    add(result: RunLogEntry): void {
      for (const server of result.servers) {
        if (server.added.length + server.removed.length + server.problems.length === 0) continue;
        let entry = servers.get(server.guildId);
        if (!entry) servers.set(server.guildId, (entry = { added: 0, removed: 0, lines: [], unlisted: 0, problems: new Set() }));
        entry.added += server.added.length;
        entry.removed += server.removed.length;
        // Problems name roles, not members, so a broken role is reported once however many it hit.
        for (const problem of server.problems) if (entry.problems.size < MAX_LINES) entry.problems.add(problem);
        if (server.added.length + server.removed.length === 0) continue;
        const change = [...server.added.map((r) => `+${roleMention(r)}`), ...server.removed.map((r) => `−${roleMention(r)}`)].join(' ');
        if (entry.lines.length < MAX_LINES) entry.lines.push(`• ${userMention(result.discordUserId)}: ${change}`);
        else entry.unlisted++;
      }
    },
    /** Posts each server's summary; each distinct problem is logged once per server, however many members it hit. */
    async post(serverLog: ServerLog, log: Logger, what: string): Promise<void> {
      for (const [guildId, entry] of servers) {
        if (entry.problems.size > 0) log.warn({ guildId, problems: [...entry.problems] }, `${what}: some role changes could not be made`);
      }
      await Promise.all(
        [...servers].map(([guildId, entry]) =>
          serverLog.post(guildId, [
            `🔄 ${what}: ${entry.added} role(s) given, ${entry.removed} removed.`,
            ...entry.lines,
            ...(entry.unlisted > 0 ? [`…and ${entry.unlisted} more member(s).`] : []),
            ...(entry.problems.size > 0 ? ['⚠️ Could not do everything:', ...[...entry.problems].map((p) => `• ${p}`)] : []),
          ]),
        ),
      );
    },
  };
}
