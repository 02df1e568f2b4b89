// A fake Roblox (Open Cloud inventory + Get User, legacy username lookup, item details for
// binds' names) that behaves as ../shared/docs/roblox-api.md describes, validates its own 200
// bodies against the specs, and can inject the faults the docs list: 5xx, hangs, bad JSON, 429s
// with and without retry-after, private inventories, rejected keys, and pagination quirks. Its
// filters are the docs' grammar: id fields, and type fields with asset types and collectibles
// (limiteds). Groups (Open Cloud memberships, roles and group details, roblox-api.md 10.1): several
// roles per member, `role` the highest and `roles[]` all of them, the `-` wildcard with at most 50
// users, page sizes capped at 100 (memberships) and 20 (roles), 300/min per key owner per endpoint.
//
// One server plays every host: apis.roblox.com and users.roblox.com at its root, and the hosts
// whose paths could be confused under their own prefix (`badgesUrl`, `economyUrl`), so a request
// sent through the wrong host's setting finds no route.
//
// It can also hold an answer until a test releases it (`gate()`), to force an interleaving.

import { createHash, randomBytes } from 'node:crypto';
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
  /** Left out of username lookups that ask for excludeBannedUsers. */
  banned?: boolean;
  inventoryPublic: boolean;
  /** Owned items; an asset may be owned in several copies. */
  items: FakeItem[];
}

export interface FakeItem {
  kind: FakeItemKind;
  id: string;
  copies?: number;
  /** An asset's inventoryItemAssetType; HAT when unset. */
  assetType?: string;
  /** A collectible (limited) asset: listed with collectibleDetails, and by onlyCollectibles. */
  collectible?: boolean;
}

export type RobloxRoute = 'inventory' | 'user' | 'usernames' | 'authorize' | 'token' | 'userinfo' | 'revoke' | ItemRoute | GroupRoute;
export type GroupRoute = 'groupMemberships' | 'groupRoles' | 'group';

/** A Roblox group: its roles (a Guest role of rank 0 is always there) and each member's roles. */
export interface FakeGroup {
  id: string;
  name: string;
  /** Role id → rank; role ids are unique across Roblox. */
  roles: Map<string, { name: string; rank: number }>;
  /** User id → the role ids they hold (several at once is allowed). */
  members: Map<string, string[]>;
}

const GROUP_ROUTES: { route: GroupRoute; path: RegExp }[] = [
  { route: 'groupMemberships', path: /^\/cloud\/v2\/groups\/([^/]+)\/memberships$/ },
  { route: 'groupRoles', path: /^\/cloud\/v2\/groups\/([^/]+)\/roles$/ },
  { route: 'group', path: /^\/cloud\/v2\/groups\/([^/]+)$/ },
];
/** Users in one wildcard filter: "up to 50" (patterns page). */
const MAX_FILTER_USERS = 50;
export type ItemRoute = 'gamePassInfo' | 'badgeInfo' | 'assetInfo';
/** Kinds that Roblox can name: a private server's name is its owner's and no anonymous endpoint gives it. */
export type FakeNamedKind = Exclude<FakeItemKind, 'privateserver'>;

export interface RobloxFault {
  status?: number;
  /** Raw text (sent as is) or a value sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (until the server closes). */
  hang?: boolean;
  delayMs?: number;
  /** Answer only once this settles: a test forces an interleaving by releasing it when it chooses. */
  hold?: Promise<unknown>;
}

/** A hold a test releases when it chooses: `fault = () => ({ hold: held.promise })`, then `held.release()`. */
export function gate(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

export interface RobloxRequestRecord {
  route: RobloxRoute;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  userId?: string;
  hadApiKey: boolean;
  /** The item asked about (item details routes). */
  itemId?: string;
  /** The Roblox user whose OAuth access token was sent, if one was. */
  bearerFor?: string;
  /** The client's end of the connection: which process sent it (tests of several processes). */
  remotePort?: number;
}

/** Roblox OAuth 2.0 as ../shared/docs/roblox-api.md section 6 describes it. */
export interface FakeOAuth {
  clients: Map<string, { secret: string; redirectUris: string[] }>;
  /** The Roblox account signed in at roblox.com in the browser; the consent screen acts for it. */
  browserUser?: string;
  /** What that user presses on the consent screen. */
  decision: 'allow' | 'deny';
  accessTtlSeconds: number;
  codeTtlMs: number;
  /** `challenge` is absent when the authorize request had no PKCE, as a confidential client may send it. */
  codes: Map<string, { clientId: string; redirectUri: string; challenge?: string; userId: string; scopes: string[]; expiresAt: number; used: boolean }>;
  accessTokens: Map<string, { userId: string; scopes: string[]; expiresAt: number; family: string }>;
  refreshTokens: Map<string, { userId: string; scopes: string[]; family: string; clientId: string; spent: boolean }>;
  /** Consents revoked, by the app (revoke endpoint) or by the user at Roblox. */
  revokedFamilies: Set<string>;
  /** Violations of the protocol by the client (bad PKCE, reused codes...). Tests assert on these. */
  clientErrors: string[];
}

const ITEM_ROUTES: { route: ItemRoute; kind: FakeNamedKind; host: string; path: RegExp }[] = [
  { route: 'gamePassInfo', kind: 'gamepass', host: 'apis', path: /^\/game-passes\/v1\/game-passes\/([^/]+)\/product-info$/ },
  { route: 'badgeInfo', kind: 'badge', host: 'badges', path: /^\/v1\/badges\/([^/]+)$/ },
  { route: 'assetInfo', kind: 'asset', host: 'economy', path: /^\/v2\/assets\/([^/]+)\/details$/ },
];
const HOST_PREFIX = /^\/hosts\/(badges|economy)(\/.*)$/;

const ID_FIELDS: Record<string, FakeItemKind> = { assetIds: 'asset', badgeIds: 'badge', gamePassIds: 'gamepass', privateServerIds: 'privateserver' };

export class FakeRoblox {
  readonly users = new Map<string, FakeRobloxUser>();
  /** API key → owner; the rate limit is per owner, shared by the owner's keys. */
  readonly apiKeys = new Map<string, string>();
  readonly requests: RobloxRequestRecord[] = [];
  /** The names of each username lookup the bot sent, in the order they arrived. */
  readonly usernameRequests: string[][] = [];
  /** Any of our own responses that broke the spec; tests assert this stays empty. */
  readonly specErrors: string[] = [];
  rateLimit = { perWindow: 100, windowMs: 60_000, sendRetryAfter: true };
  /** Roblox "may return fewer items than asked". */
  pageSizeCap = 100;
  trailingEmptyPage = false;
  repeatToken = false;
  /** The docs presume `inventoryItemAssetTypes=*` needs the inventory scope as PURCHASED_PLACE does. */
  starNeedsScope = true;
  /** Names of the passes, badges and assets that exist, by `kind:id`; any other id is unknown to Roblox. */
  readonly catalog = new Map<string, string>();
  /**
   * The status for an unknown game pass or asset id: undocumented (roblox-api.md 10.2 assumes a
   * non-2xx, likely 404, with a legacy {"errors":[…]} body), so tests can choose 400 as well.
   */
  missingItemStatus: 404 | 400 = 404;
  readonly groups = new Map<string, FakeGroup>();
  /** Per key owner and per group endpoint (Cloud_ListGroupMemberships, Cloud_ListGroupRoles: 300/min). */
  groupRateLimit = 300;
  /** Told the user id (inventory, user), the item id (item details) or the group id ("-" for the wildcard) of each request. */
  fault: ((route: RobloxRoute, id: string | undefined) => RobloxFault | undefined) | undefined;
  readonly oauth: FakeOAuth = {
    clients: new Map(),
    decision: 'allow',
    accessTtlSeconds: 899,
    codeTtlMs: 60_000,
    codes: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    revokedFamilies: new Set(),
    clientErrors: [],
  };
  private readonly starts = new Map<string, number[]>();
  private server?: Awaited<ReturnType<typeof listen>>['server'];
  url = '';

  /** Base URLs of the hosts served under a prefix (see the top of this file). */
  get badgesUrl(): string {
    return `${this.url}/hosts/badges`;
  }

  get economyUrl(): string {
    return `${this.url}/hosts/economy`;
  }

  addItem(kind: FakeNamedKind, id: string, name: string): void {
    this.catalog.set(`${kind}:${id}`, name);
  }

  /** A group with roles of these ranks (role ids derived from the group id), plus its Guest role (rank 0). */
  addGroup(id: string, name: string, ranks: readonly number[] = [1, 255]): FakeGroup {
    const roles = new Map([0, ...ranks.filter((r) => r !== 0)].map((rank) => [this.roleId(id, rank), { name: rank === 0 ? 'Guest' : `Rank ${rank}`, rank }]));
    const group: FakeGroup = { id, name, roles, members: new Map() };
    this.groups.set(id, group);
    return group;
  }

  /** Role ids that differ from ranks, as on Roblox, yet are predictable in tests. */
  roleId(groupId: string, rank: number): string {
    return `${groupId}${String(rank).padStart(3, '0')}`;
  }

  /** Gives the user these ranks' roles in the group (none: leaves the group). */
  setRanks(groupId: string, userId: string, ranks: readonly number[]): void {
    const group = this.groups.get(groupId)!;
    if (ranks.length === 0) group.members.delete(userId);
    else group.members.set(userId, ranks.map((rank) => this.roleId(groupId, rank)));
  }

  /** The truth: the user's highest rank in the group, 0 when not a member. */
  rankIn(groupId: string, userId: string): number {
    const group = this.groups.get(groupId);
    return Math.max(0, ...(group?.members.get(userId) ?? []).map((role) => group!.roles.get(role)?.rank ?? 0));
  }

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

  /** Copies of collectibles the user owns of these asset types (any type when none are named): the truth. */
  collectibles(userId: string, assetTypes: readonly string[] = []): number {
    const items = this.users.get(userId)?.items ?? [];
    return items.filter((i) => i.kind === 'asset' && i.collectible && (assetTypes.length === 0 || assetTypes.includes(i.assetType ?? 'HAT'))).reduce((n, i) => n + (i.copies ?? 1), 0);
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
    const prefixed = HOST_PREFIX.exec(url.pathname);
    const host = prefixed?.[1] ?? 'apis';
    if (prefixed) url.pathname = prefixed[2]!;
    const item = req.method === 'GET' ? ITEM_ROUTES.map((r) => ({ ...r, match: r.host === host ? r.path.exec(url.pathname) : null })).find((r) => r.match) : undefined;
    if (prefixed && !item) return this.unrouted(req, url, res);
    const inventory = url.pathname.match(/^\/cloud\/v2\/users\/([^/]+)\/inventory-items$/);
    const groupRoute = req.method === 'GET' && !prefixed ? GROUP_ROUTES.map((r) => ({ ...r, match: r.path.exec(url.pathname) })).find((r) => r.match) : undefined;
    const user = url.pathname.match(/^\/cloud\/v2\/users\/([^/]+)$/);
    const oauthRoutes: Record<string, RobloxRoute> = { 'GET /oauth/v1/authorize': 'authorize', 'POST /oauth/v1/token': 'token', 'GET /oauth/v1/userinfo': 'userinfo', 'POST /oauth/v1/token/revoke': 'revoke' };
    const route: RobloxRoute | undefined = item
      ? item.route
      : groupRoute
        ? groupRoute.route
        : req.method === 'GET' && inventory
        ? 'inventory'
        : req.method === 'GET' && user
          ? 'user'
          : req.method === 'POST' && url.pathname === '/v1/usernames/users'
            ? 'usernames'
            : oauthRoutes[`${req.method} ${url.pathname}`];
    const userId = decodeURIComponent((inventory ?? user)?.[1] ?? '') || undefined;
    const record: RobloxRequestRecord = {
      route: route ?? 'user',
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      userId,
      hadApiKey: typeof req.headers['x-api-key'] === 'string',
      remotePort: req.socket.remotePort,
      ...(item ? { itemId: decodeURIComponent(item.match![1]!) } : {}),
      ...(groupRoute ? { itemId: decodeURIComponent(groupRoute.match![1]!) } : {}),
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    if (!route) return reply(404, { errors: [{ code: 0, message: 'NotFound' }] });

    // The lookup's body is checked as it arrives, whatever the answer will be.
    const lookup = route === 'usernames' ? await this.readUsernames(req) : undefined;
    const fault = this.fault?.(route, userId ?? record.itemId);
    if (fault?.hang) return; // the socket stays open until the client gives up or the server closes
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.hold) await fault.hold.catch(() => undefined);
    if (fault?.status) return reply(fault.status, fault.body ?? '', fault.headers);

    if (item) return this.itemDetails(item.kind, record, reply);
    if (lookup) return this.usernames(lookup, reply);
    if (route === 'authorize') return this.authorize(url.searchParams, res, record);
    if (route === 'token') return this.token(req, reply);
    if (route === 'revoke') return this.revoke(req, reply);

    const bearer = this.bearer(req);
    if (bearer) record.bearerFor = bearer.userId;
    if (route === 'userinfo') return this.userinfo(bearer, reply);
    const owner = bearer ? `token:${bearer.token}` : this.apiKeys.get(String(req.headers['x-api-key'] ?? ''));
    if (!owner) return reply(401, { errors: [{ code: 0, message: 'Invalid API Key' }] });
    if (route === 'user') return this.getUser(userId!, reply);
    if (groupRoute) {
      // Each group endpoint has its own 300/min per key owner, apart from inventory (HTTP service page L217).
      const limited = this.limit(`${owner}|${route}`, this.groupRateLimit);
      if (limited.exceeded) return reply(429, { code: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' }, limited.headers);
      return this.groupRequest(groupRoute.route, record.itemId!, url.searchParams, (status, body) => reply(status, body, limited.headers));
    }

    // Per key owner (100/min), and per OAuth token (20/min).
    const limited = this.limit(owner, bearer ? Math.max(1, Math.round(this.rateLimit.perWindow / 5)) : this.rateLimit.perWindow);
    if (limited.exceeded) {
      return reply(429, { code: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).' }, limited.headers);
    }
    this.inventory(userId!, url.searchParams, bearer, (status, body) => reply(status, body, limited.headers));
  }

  /** A request under a host prefix that host does not serve: Roblox's routing answer. */
  private unrouted(req: IncomingMessage, url: URL, res: ServerResponse): void {
    this.requests.push({ route: 'user', method: req.method ?? '', path: url.pathname, query: {}, status: 404, hadApiKey: typeof req.headers['x-api-key'] === 'string' });
    sendJson(res, 404, { errors: [{ code: 0, message: 'NotFound' }] });
  }

  /**
   * Item details, anonymous: the bot's API key has no business on these legacy hosts, so sending
   * it is recorded as a violation. Only the badge endpoint is in the spec (its 200 body is checked
   * against it, and its 404 body is the spec's); the game-pass and asset ones are undocumented, so
   * their bodies follow what community clients read (roblox-api.md 10.2: PascalCase ProductInfo).
   */
  private itemDetails(kind: FakeNamedKind, record: RobloxRequestRecord, reply: (status: number, body: unknown) => void): void {
    if (record.hadApiKey) this.specErrors.push(`${record.path}: the API key was sent to an anonymous endpoint`);
    const id = record.itemId!;
    const name = /^\d+$/.test(id) ? this.catalog.get(`${kind}:${id}`) : undefined;
    if (kind === 'badge') {
      if (name === undefined) return reply(404, { errors: [{ code: 1, message: 'Badge is invalid or does not exist.' }] });
      const body = {
        id: Number(id),
        name,
        description: '',
        displayName: name,
        displayDescription: '',
        enabled: true,
        iconImageId: 1,
        displayIconImageId: 1,
        created: '2024-01-01T00:00:00Z',
        updated: '2024-01-01T00:00:00Z',
        statistics: { pastDayAwardedCount: 0, awardedCount: 0, winRatePercentage: 0 },
        awardingUniverse: { id: 1, name: 'Experience', rootPlaceId: 1 },
      };
      const problems = robloxSpec.badge(body);
      if (problems.length > 0) this.specErrors.push(`BadgeResponse: ${problems.join('; ')}`);
      return reply(200, body);
    }
    if (name === undefined) {
      const message = kind === 'gamepass' ? 'The game pass is invalid or does not exist.' : 'The asset id is invalid.';
      return reply(this.missingItemStatus, { errors: [{ code: kind === 'gamepass' ? 1 : 0, message }] });
    }
    const creator = { Id: 1, Name: 'Creator', CreatorType: 'User', CreatorTargetId: 1, HasVerifiedBadge: false };
    const common = { Name: name, Description: '', Creator: creator, IconImageAssetId: 1, Created: '2024-01-01T00:00:00Z', Updated: '2024-01-01T00:00:00Z', PriceInRobux: 100, IsForSale: true };
    reply(200, kind === 'gamepass' ? { TargetId: Number(id), ProductType: 'Game Pass', AssetId: 0, ProductId: 1, AssetTypeId: 0, ...common } : { TargetId: 1, ProductType: 'User Product', AssetId: Number(id), ProductId: 1, AssetTypeId: 8, ...common });
  }

  /** A live access token from `Authorization: Bearer`, or undefined. */
  private bearer(req: IncomingMessage): { token: string; userId: string; scopes: string[] } | undefined {
    const match = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    const grant = match ? this.oauth.accessTokens.get(match[1]!) : undefined;
    if (!grant || grant.expiresAt <= Date.now() || this.oauth.revokedFamilies.has(grant.family)) return undefined;
    return { token: match![1]!, userId: grant.userId, scopes: grant.scopes };
  }

  /** The consent screen, decided at once for `oauth.browserUser` as `oauth.decision` says. */
  private authorize(params: URLSearchParams, res: ServerResponse, record: RobloxRequestRecord): void {
    const page = (status: number, text: string) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>Roblox</title><p>${text}</p>`);
    };
    const client = this.oauth.clients.get(params.get('client_id') ?? '');
    const redirectUri = params.get('redirect_uri') ?? '';
    // Errors about the client or redirect are shown, never redirected (RFC 6749 4.1.2.1).
    if (!client) return page(400, 'Unknown client_id');
    if (!client.redirectUris.includes(redirectUri)) return page(400, 'redirect_uri does not match a registered one');
    const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
    // PKCE is optional for a confidential client (one with a secret): a bot must not count on Roblox enforcing it.
    const pkce = params.has('code_challenge') || params.has('code_challenge_method');
    const problem =
      params.get('response_type') !== 'code'
        ? 'response_type must be code'
        : !scopes.includes('openid') || scopes.some((scope) => !['openid', 'profile', 'user.inventory-item:read'].includes(scope))
          ? 'invalid scope'
          : pkce && (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(params.get('code_challenge') ?? ''))
            ? 'PKCE must be S256 with a 43-character challenge'
            : !params.get('state')
              ? 'state is required'
              : undefined;
    const back = new URL(redirectUri);
    const state = params.get('state');
    if (problem) {
      this.oauth.clientErrors.push(`authorize: ${problem}`);
      back.search = new URLSearchParams({ error: 'invalid_request', error_description: problem, ...(state ? { state } : {}) }).toString();
    } else if (this.oauth.decision === 'deny' || !this.oauth.browserUser) {
      back.search = new URLSearchParams({ error: 'access_denied', error_description: 'The user denied the request.', state: state! }).toString();
    } else {
      const code = randomBytes(24).toString('base64url');
      this.oauth.codes.set(code, { clientId: params.get('client_id')!, redirectUri, challenge: params.get('code_challenge') ?? undefined, userId: this.oauth.browserUser, scopes, expiresAt: Date.now() + this.oauth.codeTtlMs, used: false });
      back.search = new URLSearchParams({ code, state: state! }).toString();
    }
    record.status = 302;
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  /** Client authentication: HTTP Basic or client_id/client_secret in the form. */
  private client(req: IncomingMessage, form: URLSearchParams): string | undefined {
    const basic = /^Basic (\S+)$/.exec(String(req.headers.authorization ?? ''));
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    const [id, secret] = basic
      ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map(decode)
      : [form.get('client_id') ?? '', form.get('client_secret') ?? ''];
    const client = this.oauth.clients.get(id ?? '');
    return client && client.secret === secret ? id : undefined;
  }

  private async readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      this.oauth.clientErrors.push(`${req.url}: body is not form-encoded`);
      return undefined;
    }
    return new URLSearchParams(await readBody(req));
  }

  private async token(req: IncomingMessage, reply: (status: number, body: unknown) => void): Promise<void> {
    const form = await this.readForm(req);
    if (!form) return reply(400, { error: 'invalid_request', error_description: 'form body required' });
    const clientId = this.client(req, form);
    if (!clientId) return reply(401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
    const grant = form.get('grant_type');
    const invalidGrant = (why: string) => reply(400, { error: 'invalid_grant', error_description: why });
    if (grant === 'authorization_code') {
      const code = this.oauth.codes.get(form.get('code') ?? '');
      if (!code || code.clientId !== clientId) return invalidGrant('Invalid code.');
      if (code.used) {
        this.oauth.clientErrors.push('token: an authorization code was used twice');
        return invalidGrant('Code already used.');
      }
      code.used = true;
      if (code.expiresAt <= Date.now()) return invalidGrant('Code expired.');
      if (form.get('redirect_uri') !== null && form.get('redirect_uri') !== code.redirectUri) return invalidGrant('redirect_uri mismatch.');
      const verifier = form.get('code_verifier') ?? '';
      if (code.challenge !== undefined && (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== code.challenge)) {
        this.oauth.clientErrors.push('token: PKCE verifier does not match the challenge');
        return invalidGrant('PKCE verification failed.');
      }
      return reply(200, this.issue(code.userId, code.scopes, randomBytes(8).toString('hex'), clientId));
    }
    if (grant === 'refresh_token') {
      const refresh = this.oauth.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!refresh || refresh.clientId !== clientId || this.oauth.revokedFamilies.has(refresh.family)) return invalidGrant('Invalid refresh token.');
      if (refresh.spent) {
        this.oauth.clientErrors.push('token: a spent refresh token was used again');
        return invalidGrant('Refresh token already used.');
      }
      refresh.spent = true;
      return reply(200, this.issue(refresh.userId, refresh.scopes, refresh.family, clientId));
    }
    return reply(400, { error: 'unsupported_grant_type' });
  }

  private issue(userId: string, scopes: string[], family: string, clientId: string) {
    const accessToken = randomBytes(24).toString('base64url');
    const refreshToken = randomBytes(24).toString('base64url');
    this.oauth.accessTokens.set(accessToken, { userId, scopes, family, expiresAt: Date.now() + this.oauth.accessTtlSeconds * 1000 });
    this.oauth.refreshTokens.set(refreshToken, { userId, scopes, family, clientId, spent: false });
    return { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: this.oauth.accessTtlSeconds, scope: scopes.join(' '), id_token: 'eyJhbGciOiJFUzI1NiJ9.e30.sig' };
  }

  private userinfo(bearer: { userId: string; scopes: string[] } | undefined, reply: (status: number, body: unknown) => void): void {
    if (!bearer) return reply(401, { error: 'invalid_token' });
    const user = this.users.get(bearer.userId)!;
    const profile = bearer.scopes.includes('profile')
      ? { name: user.displayName ?? user.name, nickname: user.displayName ?? user.name, preferred_username: user.name, created_at: 1_577_836_800, profile: `https://www.roblox.com/users/${user.id}/profile`, picture: null }
      : {};
    reply(200, { sub: user.id, ...profile });
  }

  private async revoke(req: IncomingMessage, reply: (status: number, body: unknown) => void): Promise<void> {
    const form = await this.readForm(req);
    if (!form) return reply(400, { error: 'invalid_request' });
    if (!this.client(req, form)) return reply(401, { error: 'invalid_client' });
    const refresh = this.oauth.refreshTokens.get(form.get('token') ?? '');
    if (refresh) this.oauth.revokedFamilies.add(refresh.family);
    reply(200, undefined);
  }

  /** The user removes the app at Roblox: every token of that consent stops working. */
  revokeConsent(userId: string): void {
    for (const token of this.oauth.refreshTokens.values()) if (token.userId === userId) this.oauth.revokedFamilies.add(token.family);
  }

  /** A rolling window per key owner, reported in x-ratelimit-* headers. */
  private limit(owner: string, perWindow: number): { exceeded: boolean; headers: Record<string, string> } {
    const now = Date.now();
    const { windowMs, sendRetryAfter } = this.rateLimit;
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

  private inventory(userId: string, params: URLSearchParams, bearer: { userId: string; scopes: string[] } | undefined, reply: (status: number, body: unknown) => void): void {
    const invalid = (message: string) => reply(400, { code: 'INVALID_ARGUMENT', message });
    const user = this.users.get(userId);
    if (!/^\d+$/.test(userId)) return invalid('Invalid User ID in the request.');
    if (!user) return reply(404, { code: 'NOT_FOUND', message: 'User not found.' });

    const filter = parseFilter(params.get('filter'), this.starNeedsScope);
    if (typeof filter === 'string') return invalid(filter);
    // The API key reads only public inventories, never the scope-gated private servers; a member's
    // own token with user.inventory-item:read reads both, for that member only.
    const consented = bearer !== undefined && bearer.userId === userId && bearer.scopes.includes('user.inventory-item:read');
    if (filter.needsScope && !consented) return reply(403, { code: 'PERMISSION_DENIED', message: 'Insufficient scope.' });
    if (!user.inventoryPublic && !consented) return reply(403, { code: 'PERMISSION_DENIED', message: 'The inventory is not visible.' });

    const items = user.items.filter((item) => filter.matches(item)).flatMap((item) => Array.from({ length: item.copies ?? 1 }, (_, copy) => inventoryItem(userId, item, copy)));
    const paged = this.paginate(params, userId, items, 100);
    if (typeof paged === 'string') return invalid(paged);
    const { page, nextPageToken } = paged;
    const body = { inventoryItems: page, nextPageToken };
    this.validate('ListInventoryItemsResponse', body);
    for (const item of page) {
      const details = ['assetDetails', 'badgeDetails', 'gamePassDetails', 'privateServerDetails'].filter((k) => k in item);
      if (details.length !== 1) this.specErrors.push(`inventory item with ${details.length} details objects`);
      if (filter.onlyCollectibles && !(item.assetDetails as { collectibleDetails?: unknown } | undefined)?.collectibleDetails) this.specErrors.push('onlyCollectibles listed a non-collectible');
    }
    reply(200, body);
  }

  /**
   * One page of a listing: `maxPageSize` (default 10, "higher values are set to" `maxSize`), a page
   * token bound to every other parameter (the docs: they "must match the call that provided the page
   * token"), and the quirks a test turns on (`pageSizeCap`, `trailingEmptyPage`, `repeatToken`) for every listing.
   */
  private paginate<T>(params: URLSearchParams, scope: string, items: readonly T[], maxSize: number): { page: T[]; nextPageToken: string } | string {
    const sizeParam = params.get('maxPageSize');
    const requested = sizeParam === null ? 10 : Number(sizeParam);
    if (!Number.isInteger(requested) || requested < 0) return 'Invalid page size.';
    const pageSize = Math.min(requested === 0 ? 10 : requested, maxSize, this.pageSizeCap);
    const context = createHash('sha256').update(`${scope}|${params.get('filter') ?? ''}|${sizeParam ?? ''}`).digest('hex').slice(0, 16);
    let offset = 0;
    const token = params.get('pageToken');
    if (token) {
      const decoded = decodeToken(token);
      if (!decoded || decoded.context !== context) return 'Invalid page token: parameters changed during pagination.';
      offset = decoded.offset;
    }
    const page = items.slice(offset, offset + pageSize);
    const end = offset + page.length;
    let nextPageToken = '';
    if (end < items.length || (this.trailingEmptyPage && page.length > 0 && end === items.length)) nextPageToken = encodeToken({ offset: end, context });
    if (this.repeatToken && token && page.length > 0) nextPageToken = token;
    return { page, nextPageToken };
  }

  /**
   * Open Cloud groups. Undocumented, and chosen here (roblox-api.md 10.1, open questions): an unknown
   * group is 404 NOT_FOUND on every group endpoint; `-` without a `user in [...]` filter, or with
   * more than 50 users, is 400 INVALID_ARGUMENT; memberships are listed by group id, then user id;
   * membership ids are user ids ("a user ID can be used in place of a membership ID").
   */
  private groupRequest(route: GroupRoute, groupId: string, params: URLSearchParams, reply: (status: number, body: unknown) => void): void {
    const invalid = (message: string) => reply(400, { code: 'INVALID_ARGUMENT', message });
    const group = this.groups.get(groupId);
    if (groupId !== '-' && !/^\d+$/.test(groupId)) return invalid('Invalid group ID in the request.');
    if (!group && (groupId !== '-' || route !== 'groupMemberships')) return reply(404, { code: 'NOT_FOUND', message: 'Group not found.' });
    if (route === 'group') return this.groupDetails(group!, reply);
    if (route === 'groupRoles') {
      const roles = [...group!.roles].sort((a, b) => a[1].rank - b[1].rank).map(([id, role]) => ({
        path: `groups/${groupId}/roles/${id}`,
        createTime: '2024-01-01T00:00:00Z',
        updateTime: '2024-01-01T00:00:00Z',
        id,
        displayName: role.name,
        description: '',
        rank: role.rank,
        // "memberCount is not returned for guest roles".
        ...(role.rank === 0 ? {} : { memberCount: [...group!.members.values()].filter((held) => held.includes(id)).length }),
      }));
      const paged = this.paginate(params, groupId, roles, 20);
      if (typeof paged === 'string') return invalid(paged);
      const body = { groupRoles: paged.page, nextPageToken: paged.nextPageToken };
      this.validateFull('ListGroupRolesResponse', body);
      return reply(200, body);
    }
    const users = readUserFilter(params.get('filter'));
    if (typeof users === 'string') return invalid(users);
    if (groupId === '-' && (!users || users.multiple === false)) return invalid('Listing memberships across groups needs a filter of users: user in [...].');
    if (users && users.ids.length > MAX_FILTER_USERS) return invalid(`At most ${MAX_FILTER_USERS} users may be filtered on.`);
    const wanted = users ? new Set(users.ids) : undefined;
    const memberships = (group ? [group] : [...this.groups.values()])
      .sort((a, b) => Number(a.id) - Number(b.id))
      .flatMap((g) =>
        [...g.members]
          .filter(([userId]) => !wanted || wanted.has(userId))
          .sort((a, b) => Number(a[0]) - Number(b[0]))
          .map(([userId, held]) => {
            const sorted = [...held].sort((a, b) => (g.roles.get(b)?.rank ?? 0) - (g.roles.get(a)?.rank ?? 0));
            return {
              path: `groups/${g.id}/memberships/${userId}`,
              createTime: '2024-01-01T00:00:00Z',
              updateTime: '2024-01-01T00:00:00Z',
              user: `users/${userId}`,
              // "The member's highest-ranked role"; `roles` "always contains the complete set".
              role: `groups/${g.id}/roles/${sorted[0]}`,
              roles: sorted.map((role) => `groups/${g.id}/roles/${role}`),
            };
          }),
      );
    const paged = this.paginate(params, groupId, memberships, 100);
    if (typeof paged === 'string') return invalid(paged);
    const body = { groupMemberships: paged.page, nextPageToken: paged.nextPageToken };
    this.validateFull('ListGroupMembershipsResponse', body);
    reply(200, body);
  }

  private groupDetails(group: FakeGroup, reply: (status: number, body: unknown) => void): void {
    const body = {
      path: `groups/${group.id}`,
      createTime: '2024-01-01T00:00:00Z',
      updateTime: '2024-01-01T00:00:00Z',
      id: group.id,
      displayName: group.name,
      description: '',
      owner: 'users/1',
      memberCount: group.members.size,
      publicEntryAllowed: true,
      locked: false,
      verified: false,
    };
    this.validateFull('Group', body);
    reply(200, body);
  }

  private validateFull(schema: string, body: unknown): void {
    const problems = robloxSpec.full(schema, body);
    if (problems.length > 0) this.specErrors.push(`${schema}: ${problems.join('; ')}`);
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

  /** The request body against the spec; a problem is recorded (the bot broke the contract). */
  private async readUsernames(req: IncomingMessage): Promise<{ usernames: string[]; excludeBanned: boolean } | { problem: string; code: number }> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      this.specErrors.push('username lookup request: body is not JSON');
      return { problem: 'Invalid request body.', code: 0 };
    }
    const problems = robloxSpec.usernamesRequest(body);
    const usernames = (body as { usernames?: unknown }).usernames;
    if (problems.length > 0 || !Array.isArray(usernames) || usernames.some((u) => typeof u !== 'string')) {
      this.specErrors.push(`username lookup request: ${problems.join('; ') || 'usernames is not a list of strings'}`);
      return { problem: 'Invalid request body.', code: 0 };
    }
    this.usernameRequests.push(usernames as string[]);
    // The cap is undocumented; Roblox answers "2: Too many usernames." above 100.
    if (usernames.length > 100) {
      this.specErrors.push(`username lookup request with ${usernames.length} names (at most 100)`);
      return { problem: 'Too many usernames.', code: 2 };
    }
    return { usernames: usernames as string[], excludeBanned: (body as { excludeBannedUsers?: unknown }).excludeBannedUsers === true };
  }

  private usernames(lookup: { usernames: string[]; excludeBanned: boolean } | { problem: string; code: number }, reply: (status: number, body: unknown) => void): void {
    if ('problem' in lookup) return reply(400, { errors: [{ code: lookup.code, message: lookup.problem }] });
    const data = lookup.usernames.flatMap((requested) => {
      const match = [...this.users.values()].find((u) => !(lookup.excludeBanned && u.banned) && [u.name, ...(u.previousNames ?? [])].some((n) => n.toLowerCase() === requested.toLowerCase()));
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

type Filter = { matches: (item: FakeItem) => boolean; needsScope: boolean; onlyCollectibles: boolean };

const BOOLEAN_FIELDS = new Set(['badges', 'gamePasses', 'privateServers', 'onlyCollectibles']);
const KIND_FLAGS: Record<Exclude<FakeItemKind, 'asset'>, string> = { badge: 'badges', gamepass: 'gamePasses', privateserver: 'privateServers' };

/** The filter grammar of the docs (section 2.2); a string is the reason it is invalid. */
export function parseFilter(filter: string | null, starNeedsScope = true): Filter | string {
  const invalid = 'The provided filter is invalid.';
  if (filter === null) return { matches: (item) => item.kind !== 'privateserver', needsScope: false, onlyCollectibles: false };
  const ids = new Map<FakeItemKind, Set<string>>();
  const flags = new Map<string, boolean>();
  let assetTypes: Set<string> | undefined;
  for (const clause of filter.split(';')) {
    const eq = clause.indexOf('=');
    if (eq <= 0) return invalid;
    const field = clause.slice(0, eq);
    const values = clause.slice(eq + 1).split(',');
    if (field in ID_FIELDS) {
      if (values.some((v) => !/^\d+$/.test(v))) return invalid;
      ids.set(ID_FIELDS[field]!, new Set(values));
    } else if (BOOLEAN_FIELDS.has(field)) {
      if (values.length !== 1 || !['true', 'false'].includes(values[0]!)) return invalid;
      flags.set(field, values[0] === 'true');
    } else if (field === 'inventoryItemAssetTypes') {
      // The enum's names, or `*` alone for every type.
      if (!(values.length === 1 && values[0] === '*') && values.some((v) => !robloxSpec.assetTypes.includes(v))) return invalid;
      assetTypes = new Set(values);
    } else {
      return invalid;
    }
  }
  const typed = flags.size > 0 || assetTypes !== undefined;
  if (ids.size > 0 && typed) return invalid;
  if (ids.size > 0) return { matches: (item) => ids.get(item.kind)?.has(item.id) ?? false, needsScope: ids.has('privateserver'), onlyCollectibles: false };
  // onlyCollectibles "works only together with inventoryItemAssetTypes".
  const onlyCollectibles = flags.get('onlyCollectibles') === true;
  if (onlyCollectibles && !assetTypes) return invalid;
  const anyType = assetTypes?.has('*') ?? false;
  return {
    matches: (item) => {
      if (item.kind !== 'asset') return !onlyCollectibles && flags.get(KIND_FLAGS[item.kind]) === true;
      if (!assetTypes || !(anyType || assetTypes.has(item.assetType ?? 'HAT'))) return false;
      return !onlyCollectibles || item.collectible === true;
    },
    // Private servers and purchased places need the member's consent (the docs presume `*` too).
    needsScope: flags.get('privateServers') === true || (assetTypes?.has('PURCHASED_PLACE') ?? false) || (anyType && starNeedsScope),
    onlyCollectibles,
  };
}

function inventoryItem(userId: string, item: FakeItem, copy: number): Record<string, unknown> {
  const { kind, id } = item;
  const opaque = Buffer.from(`${kind.toUpperCase()}_ID=${id}_${copy}`).toString('base64url');
  const entry: Record<string, unknown> = { path: `users/${userId}/inventory-items/${opaque}` };
  if (kind === 'asset') {
    entry.assetDetails = {
      assetId: id,
      inventoryItemAssetType: item.assetType ?? 'HAT',
      instanceId: String(1_000_000 + copy),
      // A collectible copy has its own UUIDs, distinct from the user-asset instanceId; limiteds have a serial.
      ...(item.collectible ? { collectibleDetails: { itemId: uuidOf(`item:${id}`), instanceId: uuidOf(`copy:${userId}:${id}:${copy}`), instanceState: 'AVAILABLE', serialNumber: copy + 1 } } : {}),
    };
  }
  if (kind === 'badge') {
    entry.badgeDetails = { badgeId: id };
    entry.addTime = '2024-03-05T21:47:33Z';
  }
  if (kind === 'gamepass') entry.gamePassDetails = { gamePassId: id }; // addTime is never set for passes
  if (kind === 'privateserver') {
    entry.privateServerDetails = { privateServerId: id };
    entry.addTime = '2024-03-05T21:47:33Z';
  }
  return entry;
}

function uuidOf(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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

/**
 * `user == 'users/1'` or `user in ['users/1', 'users/2']` (the patterns page's CEL subset); undefined
 * without a filter, a message for anything else. Whether `==` works with `-` is an open question;
 * this fake refuses it there, as the docs show only `in`.
 */
function readUserFilter(filter: string | null): { ids: string[]; multiple: boolean } | undefined | string {
  if (filter === null || filter === '') return undefined;
  const one = /^user == '(users\/\d+)'$/.exec(filter);
  if (one) return { ids: [one[1]!.slice('users/'.length)], multiple: false };
  const many = /^user in \[(.*)\]$/.exec(filter);
  if (!many) return `Invalid filter: ${filter}`;
  const ids: string[] = [];
  for (const part of many[1]!.split(',')) {
    const match = /^\s*'users\/(\d+)'\s*$/.exec(part);
    if (!match) return `Invalid filter: ${filter}`;
    ids.push(match[1]!);
  }
  return { ids, multiple: true };
}
