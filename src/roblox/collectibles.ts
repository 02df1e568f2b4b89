// Counting a member's collectibles (limiteds) by asset type. Roblox does not let type filters share a
// request with the id filter, so this is a listing of its own, made only for members whose servers
// have collectible binds or rules, and once for all of their servers' binds.

import type { RobloxApi } from './api';
import { ASSET_TYPES } from './assettypes';
import type { RobloxResult } from './http';
import { type MemberToken, readPages } from './inventory';

export interface CollectibleCount {
  count: number;
  /** False when counting stopped early, at what every bind needed: the count is a lower bound. */
  complete: boolean;
}

/**
 * `onlyCollectibles=true;inventoryItemAssetTypes=…` for the union of the asset types asked about.
 * "Every type" is `*` with a member's own token; with the API key it is the enum without
 * PURCHASED_PLACE, which Roblox gates behind the member's consent (presumably `*` too), and which is
 * never a collectible anyway.
 */
export function collectibleFilter(typesKeys: Iterable<string>, withToken: boolean): string {
  const keys = [...typesKeys];
  const types = keys.includes('*') ? (withToken ? ['*'] : [...ASSET_TYPES]) : [...new Set(keys.flatMap((key) => key.split(',')))].sort();
  return `onlyCollectibles=true;inventoryItemAssetTypes=${types.join(',')}`;
}

/**
 * How many collectibles the member owns of each set of asset types (keyed by assetTypesKey), each
 * copy counted. `needs` gives each set's highest count any bind asks for: once every set has
 * reached its need, the rest of the pages are not read.
 */
export async function countCollectibles(
  api: RobloxApi,
  robloxUserId: string,
  needs: ReadonlyMap<string, number>,
  priority = false,
  token?: MemberToken,
): Promise<RobloxResult<Map<string, CollectibleCount>>> {
  const sets = [...needs.keys()].map((key) => ({ key, types: key === '*' ? undefined : new Set(key.split(',')), count: 0 }));
  const read = await readPages(api, robloxUserId, collectibleFilter(needs.keys(), token !== undefined), priority, token, (page) => {
    for (const item of page.inventoryItems) {
      const asset = item.assetDetails;
      if (!asset?.collectibleDetails) continue;
      const type = asset.inventoryItemAssetType;
      if (type === undefined) return { ok: false, failure: { kind: 'bad_response', detail: 'a collectible without its asset type' } };
      for (const set of sets) if (!set.types || set.types.has(type)) set.count++;
    }
    return sets.every((set) => set.count >= needs.get(set.key)!) ? 'enough' : 'more';
  });
  if (!read.ok) return read;
  return { ok: true, value: new Map(sets.map((set) => [set.key, { count: set.count, complete: read.value === 'end' }])) };
}
