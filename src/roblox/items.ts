// The names of game passes, badges and assets, from the anonymous endpoints community bots use
// (roblox-api.md 10.2). Two of the three are undocumented, so a name is for display only: a lookup
// that fails is "name unknown", never an input to a role decision.

import { z } from 'zod';
import { apiUrl, type RobloxApi } from './api';
import type { Budget } from './budget';
import { robloxCall, type RobloxResult } from './http';

export type NamedItemKind = 'gamepass' | 'badge' | 'asset';

export type ItemLookup =
  | { kind: 'named'; name: string }
  /** Roblox says there is no such item. */
  | { kind: 'missing'; detail: string }
  /** Roblox could not be asked: 5xx, 429, timeout, network, or an answer we could not read. */
  | { kind: 'unknown'; detail: string };

/** Longer names are cut: Roblox's own are far shorter, and every line that shows one has a limit. */
export const MAX_NAME_LENGTH = 100;

const number = z.number().int().nonnegative();
interface Endpoint {
  url(api: RobloxApi, id: string): URL;
  budget(api: RobloxApi): Budget;
  /** The answer's name, and the id it says it is about when it says. */
  schema: z.ZodType<{ name: string; id?: number }>;
}

const ENDPOINTS: Record<NamedItemKind, Endpoint> = {
  // Undocumented (not in Roblox's spec): the product-info endpoint noblox.js reads, which Roblox
  // staff pointed to when api.roblox.com was retired. Answers in PascalCase; TargetId is the pass.
  gamepass: {
    url: (api, id) => apiUrl(api.apiBaseUrl, `/game-passes/v1/game-passes/${id}/product-info`),
    budget: (api) => api.budgets.gamePassNames,
    schema: z.object({ Name: z.string(), TargetId: number.optional() }).transform((b) => ({ name: b.Name, id: b.TargetId })),
  },
  // In the spec (badges.roblox.com, EXPERIMENTAL): 404 "1: Badge is invalid or does not exist."
  badge: {
    url: (api, id) => apiUrl(api.badgesBaseUrl, `/v1/badges/${id}`),
    budget: (api) => api.budgets.badgeNames,
    schema: z.object({ name: z.string(), id: number.optional() }),
  },
  // Undocumented (never in the spec): economy's asset details, read by Bloxlink and noblox.js.
  asset: {
    url: (api, id) => apiUrl(api.economyBaseUrl, `/v2/assets/${id}/details`),
    budget: (api) => api.budgets.assetNames,
    schema: z.object({ Name: z.string(), AssetId: number.optional() }).transform((b) => ({ name: b.Name, id: b.AssetId })),
  },
};

export interface LookupOptions {
  /** A member of staff is waiting (/bind add): ahead of background lookups, and one attempt only. */
  interactive?: boolean;
}

/** Asks Roblox for an item's name, anonymously (these hosts take no API key). */
export async function lookupItemName(api: RobloxApi, kind: NamedItemKind, itemId: string, options: LookupOptions = {}): Promise<ItemLookup> {
  const endpoint = ENDPOINTS[kind];
  const http = options.interactive ? { ...api.http, maxAttempts: 1 } : api.http;
  const result = await robloxCall({ url: endpoint.url(api, itemId), budget: endpoint.budget(api), schema: endpoint.schema, priority: options.interactive }, http);
  return nameOf(result, itemId, 'item', (value) => value);
}

/**
 * A name lookup's answer, for items and groups alike: 404 or 400 means there is no such thing (the
 * docs' rule for these endpoints); any other failure, an answer about something else or one with
 * no name is "could not ask".
 */
export function nameOf<T>(result: RobloxResult<T>, asked: string, what: string, read: (value: T) => { id?: string | number; name: string }): ItemLookup {
  if (!result.ok) {
    const status = result.failure.status;
    if (status === 404 || status === 400) return { kind: 'missing', detail: `HTTP ${status}` };
    return { kind: 'unknown', detail: result.failure.detail };
  }
  const { id, name } = read(result.value);
  if (id !== undefined && String(id) !== asked) return { kind: 'unknown', detail: `the answer was about ${what} ${id}` };
  const clean = cleanName(name);
  return clean ? { kind: 'named', name: clean } : { kind: 'unknown', detail: 'the answer had an empty name' };
}

/** One line of plain text: control characters and line breaks become spaces, bidi overrides go, and the length is capped. */
export function cleanName(raw: string): string {
  const text = raw
    .replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...text];
  return chars.length > MAX_NAME_LENGTH ? `${chars.slice(0, MAX_NAME_LENGTH - 1).join('')}…` : text;
}
