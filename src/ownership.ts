// "Which of these items does this Roblox user own, and how many collectibles?" One outcome per
// item and one tally per set of asset types, never a guess.

import { type ItemRef, itemKey } from './bindings';
import type { RobloxApi } from './roblox/api';
import type { FailureKind } from './roblox/http';
import { countCollectibles } from './roblox/collectibles';
import { buildInventoryFilters, listOwnedItems, type MemberToken } from './roblox/inventory';

export type Outcome = { status: 'owns' } | { status: 'not_owned' } | { status: 'unknown'; reason: string };
/** The member's collectibles of a set of asset types; `complete` false makes the count a lower bound. */
export type Tally = { status: 'counted'; count: number; complete: boolean } | { status: 'unknown'; reason: string };
/** The member's highest rank in a Roblox group: 0 when not a member. */
export type Rank = { status: 'ranked'; rank: number } | { status: 'unknown'; reason: string };

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

/** Without OAuth configured nobody can sign in, so private servers are never readable. */
export const PRIVATE_SERVER_REASON = 'private servers can be checked only for members who signed in with Roblox, which this bot does not offer yet (its operator can set it up)';

export interface OwnershipReport {
  outcomes: Map<string, Outcome>;
  /** By asset-types key (assetTypesKey); empty when no collectibles were asked about. */
  tallies: Map<string, Tally>;
  /** Why some requests failed, for the log; the outcomes already say "unknown" for their items. */
  failures: { kind: FailureKind; detail: string }[];
}

export interface CheckOptions {
  /** A member is waiting: the requests go ahead of the background cycle. */
  priority?: boolean;
  /** The member's own token: reads private inventories and private servers, on the member's quota. */
  token?: MemberToken;
  /** Why private servers are unknown without a token (the member never signed in, or consent is gone). */
  privateServerReason?: string;
  /**
   * Also count the member's collectibles: asset-types key → the highest count a bind needs. One
   * more request (plus a page per hundred collectibles), so only for members whose binds ask.
   */
  collectibles?: ReadonlyMap<string, number>;
}

/**
 * One inventory request (split only when the ids do not fit one URL) for every item at once, and
 * one collectible listing when collectibles are asked about.
 */
export async function checkOwnership(api: RobloxApi, robloxUserId: string, items: readonly ItemRef[], options: CheckOptions = {}): Promise<OwnershipReport> {
  const report: OwnershipReport = { outcomes: new Map(), tallies: new Map(), failures: [] };
  const readable: ItemRef[] = [];
  for (const item of items) {
    if (item.kind === 'privateserver' && !options.token) report.outcomes.set(itemKey(item), { status: 'unknown', reason: options.privateServerReason ?? PRIVATE_SERVER_REASON });
    else readable.push(item);
  }
  for (const request of buildInventoryFilters(readable)) {
    const owned = await listOwnedItems(api, robloxUserId, request.filter, options.priority, options.token);
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
  if (options.collectibles && options.collectibles.size > 0) {
    const counted = await countCollectibles(api, robloxUserId, options.collectibles, options.priority, options.token);
    if (!counted.ok) report.failures.push({ kind: counted.failure.kind, detail: `collectibles: ${counted.failure.detail}` });
    for (const key of options.collectibles.keys()) {
      const count = counted.ok ? counted.value.get(key) : undefined;
      report.tallies.set(key, count ? { status: 'counted', ...count } : { status: 'unknown', reason: counted.ok ? 'not counted' : FAILURE_REASONS[counted.failure.kind] });
    }
  }
  return report;
}
