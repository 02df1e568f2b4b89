// What one server's staff may ask of the bot's shared Roblox budget. `/sync` and `/update member:`
// are priority work: their requests take 3 of every 4 Roblox slots (src/roblox/budget.ts), ahead
// of the scheduled cycle that keeps every server's roles right. So each server gets a bounded
// share of member re-checks, refilling at a steady rate; once it is spent, the next such command
// is refused with the time to retry, and no server can hold the others' cycles back for long.
// A member's own /update is not counted: it stays instant. Kept in memory: a restart refills it.

import type { Clock } from './clock';
import { UserError } from './commands';
import { timestamp } from './reports';

const HOUR_MS = 3_600_000;

export interface PriorityShare {
  /** Refuses (a UserError saying when to retry) unless the server's share holds `members` re-checks. */
  claim(guildId: string, members: number): void;
  /** Counts re-checks against the share; a /sync, whose size shows only as it goes, may overdraw it. */
  spend(guildId: string, members: number): void;
}

/** `perHour`: member re-checks a server's share refills by each hour; it holds at most that many. */
export function createPriorityShare(perHour: number, clock: Clock): PriorityShare {
  // Only servers whose share is not full are kept: memory follows recent use, not the server count.
  const spent = new Map<string, { used: number; at: number }>();
  const usedNow = (guildId: string) => {
    const entry = spent.get(guildId);
    if (!entry) return 0;
    const used = entry.used - ((clock.now() - entry.at) * perHour) / HOUR_MS;
    if (used <= 0) spent.delete(guildId);
    return Math.max(0, used);
  };
  return {
    claim(guildId, members) {
      const over = usedNow(guildId) + members - perHour;
      if (over <= 0) return;
      // Rounded up to the second the reply can show: never earlier than when it will work.
      const retryAt = new Date(Math.ceil((clock.now() + (over * HOUR_MS) / perHour) / 1000) * 1000);
      throw new UserError(
        `This server has used its share of priority re-checks for now (${perHour} members an hour, so that other servers' checks are not held up). Try again ${timestamp(retryAt)}; the scheduled sync keeps re-checking everyone meanwhile.`,
      );
    },
    spend(guildId, members) {
      if (members > 0) spent.set(guildId, { used: usedNow(guildId) + members, at: clock.now() });
    },
  };
}
