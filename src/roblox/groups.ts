// Open Cloud groups (roblox-api.md 10.1): which role each member holds in each group, and the rank
// of each role. Memberships name role paths, not ranks, so a group's roles are read once and cached.
//
// Memberships are read by user, across every group at once (`groups/-/memberships` with
// `filter=user in [...]`, at most 50 users): one request (plus pages) answers every group bind of
// up to 50 members, and its cost follows the linked members checked, not the number of group binds
// or servers. Reading by role (per group and role) would be cheaper for a staff rank in a huge
// group, but its cost grows with each bind, and whether it lists members who hold the role below a
// higher one is an open question (10.1, question 1).

import { z } from 'zod';
import type { Clock } from '../clock';
import { apiUrl, type RobloxApi } from './api';
import type { Budget } from './budget';
import { robloxCall, type RobloxResult } from './http';
import { type ItemLookup, type LookupOptions, nameOf } from './items';

/** Users per membership request: "up to 50" with the `-` wildcard (patterns page, List Group Memberships). */
export const MAX_USERS_PER_REQUEST = 50;
/** Memberships per page: "the maximum value is 100" (Cloud_ListGroupMemberships). */
export const MEMBERSHIPS_PAGE_SIZE = 100;
/** Roles per page: "the maximum value is 20" (Cloud_ListGroupRoles). */
export const ROLES_PAGE_SIZE = 20;
/** A safety stop: 50 users in Roblox's limit of 100 groups each is 50 pages; more cannot be trusted. */
const MAX_PAGES = 60;

const ROLE_PATH = /^groups\/(\d+)\/roles\/(\d+)$/;
// `groupMemberships` is required here as `inventoryItems` is for inventory: a 200 without it says
// nothing about who is in which group, so it is a bad response, never "in no group".
const membershipsPage = z.object({
  groupMemberships: z.array(z.object({ user: z.string().regex(/^users\/\d+$/), role: z.string().regex(ROLE_PATH) })),
  nextPageToken: z.string().optional(),
});
const rolesPage = z.object({
  groupRoles: z.array(z.object({ id: z.string().regex(/^\d+$/), rank: z.number().int().min(0).max(255) })),
  nextPageToken: z.string().optional(),
});
const group = z.object({ id: z.string().optional(), displayName: z.string() });

/** Each user's highest role (Roblox's `role`) by group id; a group absent from a user's map is one they are not in. */
export type Memberships = Map<string, Map<string, string>>;

type Page<T> = { value: T; next?: string; empty: boolean };

/** Every page of a listing; a repeated token or a listing that does not end is a bad response. */
async function readAllPages<T>(readPage: (pageToken: string | undefined) => Promise<RobloxResult<Page<T>>>, consume: (value: T) => RobloxResult<never> | undefined): Promise<RobloxResult<void>> {
  const sent = new Set<string>();
  let pageToken: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await readPage(pageToken);
    if (!page.ok) return page;
    const refused = consume(page.value.value);
    if (refused) return refused;
    // As inventory: a token followed by an empty page ends the list.
    if (!page.value.next || page.value.empty) return { ok: true, value: undefined };
    if (sent.has(page.value.next)) return { ok: false, failure: { kind: 'bad_response', detail: 'pagination repeated a page token' } };
    sent.add(page.value.next);
    pageToken = page.value.next;
  }
  return { ok: false, failure: { kind: 'bad_response', detail: `pagination did not end after ${MAX_PAGES} pages` } };
}

const keyed = (api: Omit<RobloxApi, 'groupRoles'>, budget: Budget) => ({ headers: { 'x-api-key': api.apiKey }, budget, keyGuard: api.keyGuard });

/** The highest role of each of these users (at most 50) in every group they are in, all pages read. */
export async function readMemberships(api: RobloxApi, robloxUserIds: readonly string[], priority = false): Promise<RobloxResult<Memberships>> {
  if (robloxUserIds.length > MAX_USERS_PER_REQUEST) throw new Error(`at most ${MAX_USERS_PER_REQUEST} users per membership request`);
  const found: Memberships = new Map(robloxUserIds.map((id) => [id, new Map()]));
  const filter = `user in [${robloxUserIds.map((id) => `'users/${id}'`).join(', ')}]`;
  const read = await readAllPages(
    async (pageToken) => {
      const url = apiUrl(api.apiBaseUrl, '/cloud/v2/groups/-/memberships');
      url.searchParams.set('maxPageSize', String(MEMBERSHIPS_PAGE_SIZE));
      url.searchParams.set('filter', filter);
      if (pageToken !== undefined) url.searchParams.set('pageToken', pageToken);
      const page = await robloxCall({ url, ...keyed(api, api.budgets.groupMemberships), priority, schema: membershipsPage }, api.http);
      return page.ok ? { ok: true, value: { value: page.value.groupMemberships, next: page.value.nextPageToken, empty: page.value.groupMemberships.length === 0 } } : page;
    },
    (memberships) => {
      for (const { user, role } of memberships) {
        const groups = found.get(user.slice('users/'.length));
        // A user nobody asked about means the filter was not applied: nothing in the answer can be trusted.
        if (!groups) return { ok: false, failure: { kind: 'bad_response', detail: `a membership of ${user}, who was not asked about` } };
        const [, groupId, roleId] = ROLE_PATH.exec(role)!;
        groups.set(groupId!, roleId!);
      }
      return undefined;
    },
  );
  return read.ok ? { ok: true, value: found } : read;
}

/** A group's rank per role id, all pages read. */
export async function readRoleRanks(api: Omit<RobloxApi, 'groupRoles'>, groupId: string): Promise<RobloxResult<Map<string, number>>> {
  const ranks = new Map<string, number>();
  const read = await readAllPages(
    async (pageToken) => {
      const url = apiUrl(api.apiBaseUrl, `/cloud/v2/groups/${encodeURIComponent(groupId)}/roles`);
      url.searchParams.set('maxPageSize', String(ROLES_PAGE_SIZE));
      if (pageToken !== undefined) url.searchParams.set('pageToken', pageToken);
      const page = await robloxCall({ url, ...keyed(api, api.budgets.groupRoles), schema: rolesPage }, api.http);
      return page.ok ? { ok: true, value: { value: page.value.groupRoles, next: page.value.nextPageToken, empty: page.value.groupRoles.length === 0 } } : page;
    },
    (roles) => {
      for (const role of roles) ranks.set(role.id, role.rank);
      return undefined;
    },
  );
  return read.ok ? { ok: true, value: ranks } : read;
}

/** A group's name (Cloud_GetGroup, with the key; no scope needed), for binds' display only. */
export async function lookupGroupName(api: RobloxApi, groupId: string, options: LookupOptions = {}): Promise<ItemLookup> {
  const http = options.interactive ? { ...api.http, maxAttempts: 1 } : api.http;
  const url = apiUrl(api.apiBaseUrl, `/cloud/v2/groups/${encodeURIComponent(groupId)}`);
  const result = await robloxCall({ url, ...keyed(api, api.budgets.groupNames), schema: group, priority: options.interactive }, http);
  // An unknown group's status is undocumented (10.1, question 3): presumably 404 NOT_FOUND; 400 is read the same way.
  return nameOf(result, groupId, 'group', (value) => ({ id: value.id, name: value.displayName }));
}

/** How long a group's ranks are trusted: owners can re-rank roles, rarely (roblox-api.md 10.1: "about daily"). */
export const ROLES_TTL_MS = 24 * 60 * 60_000;

type Entry = { at: number; ranks: Promise<RobloxResult<Map<string, number>>>; failed?: boolean };

/**
 * Each group's rank per role, read when first needed and again once a day, when binds of the group
 * change (`forget`), or when a member holds a role the cached list lacks (a role created since).
 * A failed read is asked again only after a rate window (a minute), so an outage costs one read per
 * group, not one per member.
 */
export class GroupRoles {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly api: Omit<RobloxApi, 'groupRoles'>,
    private readonly clock: Clock,
    /** How soon roles are read again after a failed read or a role missing from them: one rate window. */
    private readonly recheckMs: number,
  ) {}

  /** The rank of a role; a failure when the group's roles cannot be read or do not include it. */
  async rankOf(groupId: string, roleId: string): Promise<RobloxResult<number>> {
    let read = await this.entry(groupId, ROLES_TTL_MS).ranks;
    if (read.ok && !read.value.has(roleId)) read = await this.entry(groupId, this.recheckMs).ranks;
    if (!read.ok) return read;
    const rank = read.value.get(roleId);
    return rank !== undefined ? { ok: true, value: rank } : { ok: false, failure: { kind: 'bad_response', detail: `role ${roleId} is not among group ${groupId}'s roles` } };
  }

  forget(groupId: string): void {
    this.cache.delete(groupId);
  }

  /** The cached read if younger than `maxAgeMs` (a failed one, than `recheckMs`), else a new one. */
  private entry(groupId: string, maxAgeMs: number): Entry {
    const cached = this.cache.get(groupId);
    const age = cached ? this.clock.now() - cached.at : Number.POSITIVE_INFINITY;
    if (cached && age < (cached.failed ? Math.min(maxAgeMs, this.recheckMs) : maxAgeMs)) return cached;
    const entry: Entry = { at: this.clock.now(), ranks: readRoleRanks(this.api, groupId) };
    void entry.ranks.then((read) => (entry.failed = !read.ok));
    this.cache.set(groupId, entry);
    return entry;
  }
}
