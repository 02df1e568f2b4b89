// "Which of these items does this Roblox user own?" One outcome per item, never a guess.

import { type ItemRef, itemKey } from './bindings';
import type { RobloxApi } from './roblox/api';
import type { FailureKind } from './roblox/http';
import { buildInventoryFilters, type KeyItemKind, listOwnedItems } from './roblox/inventory';

export type Outcome = { status: 'owns' } | { status: 'not_owned' } | { status: 'unknown'; reason: string };

export const FAILURE_REASONS: Record<FailureKind, string> = {
  private: 'inventory is private (Roblox: Settings → Privacy → "Who can see my inventory?" → Everyone)',
  not_found: 'Roblox does not know this account (deleted or banned?)',
  rate_limited: 'Roblox rate limit reached; will retry',
  unavailable: 'Roblox is unavailable; will retry',
  timeout: 'Roblox did not answer in time; will retry',
  bad_response: 'Roblox sent an answer the bot could not read',
  auth: "Roblox rejected the bot's API key",
  invalid_request: 'Roblox refused the request',
};

export const PRIVATE_SERVER_REASON = 'private-server ownership needs the member to sign in with Roblox (not available yet)';

export interface OwnershipReport {
  outcomes: Map<string, Outcome>;
  /** Why some requests failed, for the log; the outcomes already say "unknown" for their items. */
  failures: { kind: FailureKind; detail: string }[];
}

/** One inventory request (split only when the ids do not fit one URL) for every item at once. */
export async function checkOwnership(api: RobloxApi, robloxUserId: string, items: readonly ItemRef[], priority = false): Promise<OwnershipReport> {
  const report: OwnershipReport = { outcomes: new Map(), failures: [] };
  const keyItems: (ItemRef & { kind: KeyItemKind })[] = [];
  for (const item of items) {
    if (item.kind === 'privateserver') report.outcomes.set(itemKey(item), { status: 'unknown', reason: PRIVATE_SERVER_REASON });
    else keyItems.push({ ...item, kind: item.kind });
  }
  for (const request of buildInventoryFilters(keyItems)) {
    const owned = await listOwnedItems(api, robloxUserId, request.filter, priority);
    if (!owned.ok) report.failures.push({ kind: owned.failure.kind, detail: owned.failure.detail });
    for (const item of request.items) {
      const key = itemKey(item);
      report.outcomes.set(
        key,
        !owned.ok
          ? { status: 'unknown', reason: FAILURE_REASONS[owned.failure.kind] }
          : owned.value.has(key)
            ? { status: 'owns' }
            : { status: 'not_owned' },
      );
    }
  }
  return report;
}
