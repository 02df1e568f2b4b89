// A fake Roblox (Open Cloud inventory + Get User, legacy username lookup) that behaves as
// ../shared/docs/roblox-api.md describes, validates its own 200 bodies against the subset specs,
// and can inject the faults the docs list: 5xx, hangs, bad JSON, 429s with and without
// retry-after, private inventories, rejected keys, and pagination quirks.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { close, listen, readBody, sendJson } from './http';
import { robloxSpec } from './spec';

export type FakeItemKind = 'asset' | 'badge' | 'gamepass' | 'privateserver';

export interface FakeRobloxUser {
  id: string;
  name: string;
  displayName?: string;
  about: string;
  previousNames?: string[];
  inventoryPublic: boolean;
  /** Owned items; an asset may be owned in several copies. */
  items: { kind: FakeItemKind; id: string; copies?: number }[];
}

export type RobloxRoute = 'inventory' | 'user' | 'usernames';

export interface RobloxFault {
  status?: number;
  /** Raw text (sent as is) or a value sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (until the server closes). */
  hang?: boolean;
  delayMs?: number;
}

export interface RobloxRequestRecord {
  route: RobloxRoute;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  userId?: string;
  hadApiKey: boolean;
}

const ID_FIELDS: Record<string, FakeItemKind> = { assetIds: 'asset', badgeIds: 'badge', gamePassIds: 'gamepass', privateServerIds: 'privateserver' };
const TYPE_FIELDS = new Set(['badges', 'gamePasses', 'privateServers', 'inventoryItemAssetTypes', 'onlyCollectibles']);

export class FakeRoblox {
  readonly users = new Map<string, FakeRobloxUser>();
  /** API key → owner; the rate limit is per owner, shared by the owner's keys. */
  readonly apiKeys = new Map<string, string>();
  readonly requests: RobloxRequestRecord[] = [];
  /** Any of our own responses that broke the spec; tests assert this stays empty. */
  readonly specErrors: string[] = [];
  rateLimit = { perWindow: 100, windowMs: 60_000, sendRetryAfter: true };
  /** Roblox "may return fewer items than asked". */
  pageSizeCap = 100;
  trailingEmptyPage = false;
  repeatToken = false;
  fault: ((route: RobloxRoute, userId: string | undefined) => RobloxFault | undefined) | undefined;
  private readonly starts = new Map<string, number[]>();
  private server?: Awaited<ReturnType<typeof listen>>['server'];
  url = '';

  addUser(user: Partial<FakeRobloxUser> & { id: string; name: string }): FakeRobloxUser {
    const full: FakeRobloxUser = { about: '', inventoryPublic: true, items: [], ...user };
    this.users.set(full.id, full);
    return full;
  }

  owns(userId: string, kind: FakeItemKind, id: string): boolean {
    return this.users.get(userId)?.items.some((i) => i.kind === kind && i.id === id) ?? false;
  }

  give(userId: string, kind: FakeItemKind, id: string): void {
    if (!this.owns(userId, kind, id)) this.users.get(userId)!.items.push({ kind, id });
  }

  take(userId: string, kind: FakeItemKind, id: string): void {
    const user = this.users.get(userId)!;
    user.items = user.items.filter((i) => !(i.kind === kind && i.id === id));
  }

  count(route: RobloxRoute, status?: number): number {
    return this.requests.filter((r) => r.route === route && (status === undefined || r.status === status)).length;
  }

  async start(): Promise<string> {
    const { server, url } = await listen((req, res) => void this.handle(req, res));
    this.server = server;
    this.url = url;
    return url;
  }

  async close(): Promise<void> {
    if (this.server) await close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const inventory = url.pathname.match(/^\/cloud\/v2\/users\/([^/]+)\/inventory-items$/);
    const user = url.pathname.match(/^\/cloud\/v2\/users\/([^/]+)$/);
    const route: RobloxRoute | undefined =
      req.method === 'GET' && inventory ? 'inventory' : req.method === 'GET' && user ? 'user' : req.method === 'POST' && url.pathname === '/v1/usernames/users' ? 'usernames' : undefined;
    const userId = decodeURIComponent((inventory ?? user)?.[1] ?? '') || undefined;
    const record: RobloxRequestRecord = {
      route: route ?? 'user',
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      userId,
      hadApiKey: typeof req.headers['x-api-key'] === 'string',
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    if (!route) return reply(404, { errors: [{ code: 0, message: 'NotFound' }] });

    const fault = this.fault?.(route, userId);
    if (fault?.hang) return; // the socket stays open until the client gives up or the server closes
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status) return reply(fault.status, fault.body ?? '', fault.headers);

    if (route === 'usernames') return this.usernames(req, reply);

    const owner = this.apiKeys.get(String(req.headers['x-api-key'] ?? ''));
    if (!owner) return reply(401, { errors: [{ code: 0, message: 'Invalid API Key' }] });
    if (route === 'user') return this.getUser(userId!, reply);

    const limited = this.limit(owner);
    if (limited.exceeded) {
      return reply(429, { code: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' }, limited.headers);
    }
    this.inventory(userId!, url.searchParams, (status, body) => reply(status, body, limited.headers));
  }

  /** A rolling window per key owner, reported in x-ratelimit-* headers. */
  private limit(owner: string): { exceeded: boolean; headers: Record<string, string> } {
    const now = Date.now();
    const { perWindow, windowMs, sendRetryAfter } = this.rateLimit;
    const starts = (this.starts.get(owner) ?? []).filter((t) => t > now - windowMs);
    this.starts.set(owner, starts);
    const exceeded = starts.length >= perWindow;
    if (!exceeded) starts.push(now);
    const resetSeconds = starts.length > 0 ? Math.max(0, (starts[0]! + windowMs - now) / 1000) : 0;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': `${perWindow}, ${perWindow};w=${Math.round(windowMs / 1000)}`,
      'x-ratelimit-remaining': String(Math.max(0, perWindow - starts.length)),
      'x-ratelimit-reset': resetSeconds.toFixed(3),
    };
    if (exceeded && sendRetryAfter) headers['retry-after'] = resetSeconds.toFixed(3);
    return { exceeded, headers };
  }

  private inventory(userId: string, params: URLSearchParams, reply: (status: number, body: unknown) => void): void {
    const invalid = (message: string) => reply(400, { code: 'INVALID_ARGUMENT', message });
    const user = this.users.get(userId);
    if (!/^\d+$/.test(userId)) return invalid('Invalid User ID in the request.');
    if (!user) return reply(404, { code: 'NOT_FOUND', message: 'User not found.' });

    const filter = parseFilter(params.get('filter'));
    if (typeof filter === 'string') return invalid(filter);
    // The API key may read only public inventories, and never the scope-gated private servers.
    if (filter.needsScope) return reply(403, { code: 'PERMISSION_DENIED', message: 'Insufficient scope.' });
    if (!user.inventoryPublic) return reply(403, { code: 'PERMISSION_DENIED', message: 'The inventory is not visible.' });

    const sizeParam = params.get('maxPageSize');
    const requested = sizeParam === null ? 10 : Number(sizeParam);
    if (!Number.isInteger(requested) || requested < 0) return invalid('Invalid page size.');
    const pageSize = Math.min(requested === 0 ? 10 : requested, 100, this.pageSizeCap);
    const context = createHash('sha256').update(`${userId}|${params.get('filter') ?? ''}|${sizeParam ?? ''}`).digest('hex').slice(0, 16);

    let offset = 0;
    const token = params.get('pageToken');
    if (token) {
      const decoded = decodeToken(token);
      if (!decoded || decoded.context !== context) return invalid('Invalid page token: parameters changed during pagination.');
      offset = decoded.offset;
    }
    const items = user.items
      .filter((item) => filter.matches(item.kind, item.id))
      .flatMap((item) => Array.from({ length: item.copies ?? 1 }, (_, copy) => inventoryItem(userId, item.kind, item.id, copy)));
    const page = items.slice(offset, offset + pageSize);
    const end = offset + page.length;
    let nextPageToken = '';
    if (end < items.length || (this.trailingEmptyPage && page.length > 0 && end === items.length)) nextPageToken = encodeToken({ offset: end, context });
    if (this.repeatToken && token && page.length > 0) nextPageToken = token;
    const body = { inventoryItems: page, nextPageToken };
    this.validate('ListInventoryItemsResponse', body);
    for (const item of page) {
      const details = ['assetDetails', 'badgeDetails', 'gamePassDetails', 'privateServerDetails'].filter((k) => k in item);
      if (details.length !== 1) this.specErrors.push(`inventory item with ${details.length} details objects`);
    }
    reply(200, body);
  }

  private getUser(userId: string, reply: (status: number, body: unknown) => void): void {
    const user = this.users.get(userId);
    if (!user) return reply(404, { code: 'NOT_FOUND', message: 'User not found.' });
    const body = {
      path: `users/${user.id}`,
      id: user.id,
      name: user.name,
      displayName: user.displayName ?? user.name,
      about: user.about,
      createTime: '2020-01-01T00:00:00Z',
      locale: 'en-US',
      premium: false,
    };
    this.validate('User', body);
    reply(200, body);
  }

  private async usernames(req: IncomingMessage, reply: (status: number, body: unknown) => void): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return reply(400, { errors: [{ code: 0, message: 'Invalid request body.' }] });
    }
    const problems = robloxSpec.usernamesRequest(body);
    const usernames = (body as { usernames?: unknown }).usernames;
    if (problems.length > 0 || !Array.isArray(usernames) || usernames.some((u) => typeof u !== 'string')) {
      this.specErrors.push(`username lookup request: ${problems.join('; ') || 'usernames is not a list of strings'}`);
      return reply(400, { errors: [{ code: 0, message: 'Invalid request body.' }] });
    }
    if (usernames.length > 100) return reply(400, { errors: [{ code: 2, message: 'Too many usernames.' }] });
    const data = (usernames as string[]).flatMap((requested) => {
      const match = [...this.users.values()].find((u) => [u.name, ...(u.previousNames ?? [])].some((n) => n.toLowerCase() === requested.toLowerCase()));
      return match ? [{ requestedUsername: requested, hasVerifiedBadge: false, id: Number(match.id), name: match.name, displayName: match.displayName ?? match.name }] : [];
    });
    const response = { data };
    const responseProblems = robloxSpec.usernamesResponse(response);
    if (responseProblems.length > 0) this.specErrors.push(`usernames response: ${responseProblems.join('; ')}`);
    reply(200, response);
  }

  private validate(schema: 'ListInventoryItemsResponse' | 'User', body: unknown): void {
    const problems = robloxSpec.v2(schema, body);
    if (problems.length > 0) this.specErrors.push(`${schema}: ${problems.join('; ')}`);
  }
}

type Filter = { matches: (kind: FakeItemKind, id: string) => boolean; needsScope: boolean };

/** The filter grammar of the docs (section 2.2); a string is the reason it is invalid. */
export function parseFilter(filter: string | null): Filter | string {
  if (filter === null) return { matches: (kind) => kind !== 'privateserver', needsScope: false };
  const ids = new Map<FakeItemKind, Set<string>>();
  const types = new Set<string>();
  for (const clause of filter.split(';')) {
    const eq = clause.indexOf('=');
    if (eq <= 0) return 'The provided filter is invalid.';
    const field = clause.slice(0, eq);
    const values = clause.slice(eq + 1).split(',');
    if (field in ID_FIELDS) {
      if (values.some((v) => !/^\d+$/.test(v))) return 'The provided filter is invalid.';
      ids.set(ID_FIELDS[field]!, new Set(values));
    } else if (TYPE_FIELDS.has(field)) {
      types.add(field);
    } else {
      return 'The provided filter is invalid.';
    }
  }
  if (ids.size > 0 && types.size > 0) return 'The provided filter is invalid.';
  if (types.size > 0) return 'type filters are not implemented by this fake';
  return { matches: (kind, id) => ids.get(kind)?.has(id) ?? false, needsScope: ids.has('privateserver') };
}

function inventoryItem(userId: string, kind: FakeItemKind, id: string, copy: number): Record<string, unknown> {
  const opaque = Buffer.from(`${kind.toUpperCase()}_ID=${id}_${copy}`).toString('base64url');
  const item: Record<string, unknown> = { path: `users/${userId}/inventory-items/${opaque}` };
  if (kind === 'asset') item.assetDetails = { assetId: id, inventoryItemAssetType: 'HAT', instanceId: String(1_000_000 + copy) };
  if (kind === 'badge') {
    item.badgeDetails = { badgeId: id };
    item.addTime = '2024-03-05T21:47:33Z';
  }
  if (kind === 'gamepass') item.gamePassDetails = { gamePassId: id }; // addTime is never set for passes
  if (kind === 'privateserver') {
    item.privateServerDetails = { privateServerId: id };
    item.addTime = '2024-03-05T21:47:33Z';
  }
  return item;
}

function encodeToken(token: { offset: number; context: string }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(token: string): { offset: number; context: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown; context?: unknown };
    return typeof value.offset === 'number' && typeof value.context === 'string' ? { offset: value.offset, context: value.context } : undefined;
  } catch {
    return undefined;
  }
}
