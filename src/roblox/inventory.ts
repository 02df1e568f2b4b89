// Open Cloud List Inventory Items: which of some items a user owns, in as few requests as fit a URL.

import { z } from 'zod';
import type { ItemKind, ItemRef } from '../bindings';
import { apiUrl, type RobloxApi } from './api';
import type { Budget } from './budget';
import { type RobloxRequest, robloxCall, type RobloxResult } from './http';

/** A member's own OAuth access token, read on its own quota (20 a minute) instead of the key's. */
export interface MemberToken {
  accessToken: string;
  budget: Budget;
}

// Private servers are readable only with the member's token carrying user.inventory-item:read.
const FILTER_FIELDS: Record<ItemKind, string> = {
  asset: 'assetIds',
  badge: 'badgeIds',
  gamepass: 'gamePassIds',
  privateserver: 'privateServerIds',
};

/** Encoded filter length per request, so the whole URL stays well under the common 2,048 limit. */
export const MAX_FILTER_LENGTH = 1_600;
export const PAGE_SIZE = 100;
/** A safety stop: an ID filter of a few hundred items, or a count of at most 1,000, never needs this many pages. */
const MAX_PAGES = 200;

const id = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
// A 200 without `inventoryItems` says nothing about what the user owns: the schema makes it a bad
// response (unknown), never an empty inventory.
const inventoryPage = z.object({
  inventoryItems: z
    .array(
      z.object({
        assetDetails: z
          .object({
            assetId: id,
            inventoryItemAssetType: z.string().optional(),
            // Present only for collectibles (limiteds): what a collectible read counts.
            collectibleDetails: z.object({}).optional(),
          })
          .optional(),
        badgeDetails: z.object({ badgeId: id }).optional(),
        gamePassDetails: z.object({ gamePassId: id }).optional(),
        privateServerDetails: z.object({ privateServerId: id }).optional(),
      }),
    ),
  nextPageToken: z.string().optional(),
});
export type InventoryPage = z.infer<typeof inventoryPage>;

/**
 * ID-only filters (`assetIds=…;badgeIds=…;gamePassIds=…`) covering every item, each short enough
 * for one URL. Type fields are never mixed in: Roblox rejects such filters.
 */
export function buildInventoryFilters(items: readonly ItemRef[], maxLength = MAX_FILTER_LENGTH): { filter: string; items: ItemRef[] }[] {
  const requests: { filter: string; items: ItemRef[] }[] = [];
  let current: ItemRef[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(`${item.kind}:${item.itemId}`)) continue;
    seen.add(`${item.kind}:${item.itemId}`);
    const candidate = [...current, item];
    if (current.length > 0 && encodeURIComponent(filterFor(candidate)).length > maxLength) {
      requests.push({ filter: filterFor(current), items: current });
      current = [item];
    } else {
      current = candidate;
    }
  }
  if (current.length > 0) requests.push({ filter: filterFor(current), items: current });
  return requests;
}

function filterFor(items: readonly ItemRef[]): string {
  const clauses: string[] = [];
  for (const kind of Object.keys(FILTER_FIELDS) as ItemKind[]) {
    const ids = items.filter((item) => item.kind === kind).map((item) => item.itemId);
    if (ids.length > 0) clauses.push(`${FILTER_FIELDS[kind]}=${ids.join(',')}`);
  }
  return clauses.join(';');
}

/** Item keys (`kind:id`) the user owns among those the filter names, following every page. */
export async function listOwnedItems(api: RobloxApi, robloxUserId: string, filter: string, priority = false, token?: MemberToken): Promise<RobloxResult<Set<string>>> {
  const owned = new Set<string>();
  const listed = await readPages(api, robloxUserId, filter, priority, token, (page) => {
    for (const key of ownedKeys(page)) owned.add(key);
    return 'more';
  });
  return listed.ok ? { ok: true, value: owned } : listed;
}

/**
 * Every page of one filtered listing, each handed to `consume` until it says "enough" ("stopped"
 * if pages were left unread, else "end"). Fails as a whole (a bad response) when the pages cannot
 * be trusted to cover the list.
 */
export async function readPages(
  api: RobloxApi,
  robloxUserId: string,
  filter: string,
  priority: boolean,
  token: MemberToken | undefined,
  consume: (page: InventoryPage) => 'more' | 'enough' | RobloxResult<never>,
): Promise<RobloxResult<'end' | 'stopped'>> {
  const credentials: Pick<RobloxRequest<unknown>, 'headers' | 'budget' | 'keyGuard'> = token
    ? { headers: { authorization: `Bearer ${token.accessToken}` }, budget: token.budget }
    : { headers: { 'x-api-key': api.apiKey }, budget: api.budgets.inventory, keyGuard: api.keyGuard };
  const sentTokens = new Set<string>();
  let pageToken: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const url = apiUrl(api.apiBaseUrl, `/cloud/v2/users/${encodeURIComponent(robloxUserId)}/inventory-items`);
    url.searchParams.set('maxPageSize', String(PAGE_SIZE));
    url.searchParams.set('filter', filter);
    if (pageToken !== undefined) url.searchParams.set('pageToken', pageToken);
    const page = await robloxCall({ url, ...credentials, priority, schema: inventoryPage }, api.http);
    if (!page.ok) return page;
    const consumed = consume(page.value);
    if (typeof consumed === 'object') return consumed;
    const next = page.value.nextPageToken;
    // Roblox may hand out a token followed by an empty page: that ends the list.
    if (!next || page.value.inventoryItems.length === 0) return { ok: true, value: 'end' };
    // A repeated token means the pages cannot be trusted to cover the list (nor, for a count, to
    // be distinct): the whole answer is unknown, even when it already seemed enough.
    if (sentTokens.has(next)) return { ok: false, failure: { kind: 'bad_response', detail: 'pagination repeated a page token' } };
    if (consumed === 'enough') return { ok: true, value: 'stopped' };
    sentTokens.add(next);
    pageToken = next;
  }
  return { ok: false, failure: { kind: 'bad_response', detail: `pagination did not end after ${MAX_PAGES} pages` } };
}

function* ownedKeys(page: InventoryPage): Generator<string> {
  for (const item of page.inventoryItems) {
    if (item.assetDetails) yield `asset:${item.assetDetails.assetId}`;
    if (item.badgeDetails) yield `badge:${item.badgeDetails.badgeId}`;
    if (item.gamePassDetails) yield `gamepass:${item.gamePassDetails.gamePassId}`;
    if (item.privateServerDetails) yield `privateserver:${item.privateServerDetails.privateServerId}`;
  }
}
