// Step 3 of a re-check: one ownership read for every item bound in the member's servers (and their
// collectibles counted once, when a bind asks), with the
// member's own token when they signed in with Roblox (once more after a refused token), else the key.

import type { ItemRef } from '../bindings';
import type { Grants } from '../oauth/grants';
import { checkOwnership, type OwnershipReport } from '../ownership';
import type { RobloxApi } from '../roblox/api';

export async function readOwnership(roblox: RobloxApi, grants: Grants | undefined, discordUserId: string, robloxUserId: string, items: readonly ItemRef[], collectibles: ReadonlyMap<string, number>, priority: boolean | undefined): Promise<OwnershipReport> {
  if (!grants) return checkOwnership(roblox, robloxUserId, items, { priority, collectibles });
  for (let attempt = 0; ; attempt++) {
    const access = await grants.access(discordUserId, robloxUserId);
    const report = await checkOwnership(roblox, robloxUserId, items, access.kind === 'token' ? { priority, collectibles, token: access.token } : { priority, collectibles, privateServerReason: access.reason });
    if (access.kind === 'key' || attempt > 0 || !report.failures.some((f) => f.kind === 'auth')) return report;
    grants.refused(discordUserId);
  }
}
