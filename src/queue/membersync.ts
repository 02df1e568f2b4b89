// The MemberSync the commands and events use in queue mode: a priority check becomes a job at a
// higher priority than the cycle's batches, any process may take it, and the caller waits for its
// result. The commands do not change; results travel as JSON (MemberResult has no Map or Date).

import type { Queue, QueueEvents } from 'bullmq';
import type { MemberResult, MemberSync } from '../sync/members';
import { type JobData, PRIORITY } from './jobs';

/** Longer than any check waits on Roblox's budget, shorter than an interaction token's 15 minutes. */
const WAIT_MS = 10 * 60_000;

export function queuedMemberSync(queue: Queue, events: QueueEvents, local: MemberSync): MemberSync {
  return {
    async one(discordUserId, options = {}) {
      const data: JobData = { kind: 'one', id: discordUserId, alsoIn: options.alsoIn, priority: options.priority === true };
      const job = await queue.add('one', data, { priority: options.priority ? PRIORITY.waiting : PRIORITY.background });
      return (await job.waitUntilFinished(events, WAIT_MS)) as MemberResult;
    },
    async batch(discordUserIds, options = {}) {
      // Background batches (the unverified-role pass) stay in the process that walks its pages.
      if (!options.priority) return local.batch(discordUserIds, options);
      const data: JobData = { kind: 'members', ids: [...discordUserIds], alsoIn: options.alsoIn };
      const job = await queue.add('members', data, { priority: PRIORITY.server });
      const results = (await job.waitUntilFinished(events, WAIT_MS)) as MemberResult[];
      for (const result of results) options.onChecked?.(result);
      return results;
    },
    // Link changes lock where the checks lock: the local sync's lock is the Redis one in queue mode.
    exclusive: local.exclusive,
  };
}
