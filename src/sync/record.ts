// Step 6 of a re-check: a batch's outcomes, followed servers and check times, written in one
// transaction and only where something changed, so a steady population costs almost nothing.

import type { Database } from '../database/client';
import { linksAmong, markChecked } from '../database/links';
import { type Followed, loadFollowed, saveFollowChanges } from '../database/membersync';
import { type Answer, loadOutcomes, saveOutcomeChanges } from '../database/outcomes';
import type { MemberResult } from './results';

export interface Checked {
  result: MemberResult;
  /** Item outcomes and collectible tallies, as stored. */
  outcomes: Map<string, Answer>;
}

export async function recordBatch(db: Database, checked: readonly Checked[], now: Date): Promise<void> {
  const members = checked.map((c) => c.result.discordUserId);
  const read = checked.flatMap((c) => (c.result.robloxUserId ? [{ discordUserId: c.result.discordUserId, robloxUserId: c.result.robloxUserId, outcomes: c.outcomes }] : []));
  const [previous, followed] = await Promise.all([loadOutcomes(db, read.map((a) => a.robloxUserId)), loadFollowed(db, members)]);
  const followedBy = new Map(followed.map((row) => [`${row.guildId}:${row.discordUserId}`, row]));

  await db.$transaction(async (tx) => {
    // The links as they are now: a member unlinked (or whose account moved) while the batch ran
    // keeps no outcomes of the old account, but stays followed: their check may have given roles for
    // it, and should the sync that follows the change fail, the next run's pass over unlinked members takes them.
    const linked = await linksAmong(tx, members);
    const accounts = read.filter((a) => linked.get(a.discordUserId) === a.robloxUserId);
    const drop: Followed[] = [];
    const upsert: Followed[] = [];
    for (const { result } of checked) {
      for (const server of result.servers) {
        const row = followedBy.get(`${server.guildId}:${result.discordUserId}`);
        const problem = server.problems.join('; ') || null;
        // A member checked unlinked with nothing left to remove, or one who left, needs no following.
        if (!server.present || (!result.robloxUserId && !linked.has(result.discordUserId) && server.problems.length === 0)) {
          if (row) drop.push({ guildId: server.guildId, discordUserId: result.discordUserId, problem });
        } else if (!row || row.problem !== problem) {
          upsert.push({ guildId: server.guildId, discordUserId: result.discordUserId, problem });
        }
      }
    }
    await saveOutcomeChanges(tx, accounts, previous, now);
    await saveFollowChanges(tx, drop, upsert, now);
    await markChecked(tx, members.filter((id) => linked.has(id)), now);
  });
}
