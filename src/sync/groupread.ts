// Step 3, beside the ownership read: the member's highest rank in each group their servers' binds
// name. A batch reads the memberships of up to 50 of its linked members in one request (plus pages)
// covering every group at once, so a member costs a fiftieth of a request however many group binds
// their servers have; members whose servers have none are never asked about.

import { FAILURE_REASONS, type Rank } from '../ownership';
import type { RobloxApi } from '../roblox/api';
import { MAX_USERS_PER_REQUEST, type Memberships, readMemberships } from '../roblox/groups';
import type { RobloxFailure, RobloxResult } from '../roblox/http';

export interface GroupReport {
  /** By group id; 0 when the member is not in the group. */
  ranks: Map<string, Rank>;
  failures: { kind: RobloxFailure['kind']; detail: string }[];
}

/** The memberships of a batch's members, read fifty at a time as the first of each fifty asks. */
export interface GroupReads {
  ranks(robloxUserId: string, groupIds: ReadonlySet<string>): Promise<GroupReport>;
}

/**
 * `expected`: the Roblox accounts of the batch's members whose servers have group binds, as linked
 * when the batch began. The link read inside a member's lock decides: an account not expected
 * (linked since) is read on its own.
 */
export function groupReads(roblox: RobloxApi, expected: readonly string[], priority: boolean | undefined): GroupReads {
  const unique = [...new Set(expected)];
  const chunks = Array.from({ length: Math.ceil(unique.length / MAX_USERS_PER_REQUEST) }, (_, i) => unique.slice(i * MAX_USERS_PER_REQUEST, (i + 1) * MAX_USERS_PER_REQUEST));
  const chunkOf = new Map(chunks.flatMap((chunk, index) => chunk.map((id) => [id, index] as const)));
  const reads = new Map<number, Promise<RobloxResult<Memberships>>>();
  const membershipsOf = (robloxUserId: string) => {
    const index = chunkOf.get(robloxUserId);
    if (index === undefined) return readMemberships(roblox, [robloxUserId], priority);
    let read = reads.get(index);
    if (!read) reads.set(index, (read = readMemberships(roblox, chunks[index]!, priority)));
    return read;
  };
  return {
    async ranks(robloxUserId, groupIds) {
      const report: GroupReport = { ranks: new Map(), failures: [] };
      const read = await membershipsOf(robloxUserId);
      if (!read.ok) report.failures.push({ kind: read.failure.kind, detail: `group memberships: ${read.failure.detail}` });
      for (const groupId of groupIds) {
        if (!read.ok) {
          report.ranks.set(groupId, { status: 'unknown', reason: FAILURE_REASONS[read.failure.kind] });
          continue;
        }
        // A complete listing without the group: not a member (rank 0, Roblox's Guest role).
        const roleId = read.value.get(robloxUserId)?.get(groupId);
        if (roleId === undefined) {
          report.ranks.set(groupId, { status: 'ranked', rank: 0 });
          continue;
        }
        const rank = await roblox.groupRoles.rankOf(groupId, roleId);
        if (!rank.ok) report.failures.push({ kind: rank.failure.kind, detail: `roles of group ${groupId}: ${rank.failure.detail}` });
        report.ranks.set(groupId, rank.ok ? { status: 'ranked', rank: rank.value } : { status: 'unknown', reason: FAILURE_REASONS[rank.failure.kind] });
      }
      return report;
    },
  };
}
