// The MemberSync the commands and events use in queue mode: a member's check becomes a job on the
// member queue, a /sync page one on the sync queue ahead of the cycle's batches; any process may
// take them, and the caller waits for the result. The commands do not change; results travel as
// JSON (MemberResult has no Map or Date).

import type { Queue, QueueEvents } from 'bullmq';
import type { MemberResult, MemberSync } from '../sync/members';
import { type JobData, PRIORITY } from './jobs';

/** Longer than any check waits on Roblox's budget, shorter than an interaction token's 15 minutes. */
const WAIT_MS = 10 * 60_000;

/** A queue and the listener that hears its jobs finish. */
export interface QueueLine {
  queue: Queue;
  events: QueueEvents;
}

/** `members`: the member queue (one member's check); `sync`: the sync queue (a page of /sync). */
export function queuedMemberSync(lines: { members: QueueLine; sync: QueueLine }, local: MemberSync): MemberSync {
  return {
    async one(discordUserId, options = {}) {
      const data: JobData = { kind: 'one', id: discordUserId, alsoIn: options.alsoIn, priority: options.priority === true };
      const job = await lines.members.queue.add('one', data, { priority: options.priority ? PRIORITY.waiting : PRIORITY.background });
      return (await job.waitUntilFinished(lines.members.events, WAIT_MS)) as MemberResult;
    },
    async batch(discordUserIds, options = {}) {
      // Background batches (the unverified-role pass) stay in the process that walks its pages.
      if (!options.priority) return local.batch(discordUserIds, options);
      const data: JobData = { kind: 'members', ids: [...discordUserIds], alsoIn: options.alsoIn };
      const job = await lines.sync.queue.add('members', data, { priority: PRIORITY.server });
      const results = (await job.waitUntilFinished(lines.sync.events, WAIT_MS)) as MemberResult[];
      for (const result of results) options.onChecked?.(result);
      return results;
    },
    // Link changes lock where the checks lock: the local sync's lock is the Redis one in queue mode.
    exclusive: local.exclusive,
  };
}
