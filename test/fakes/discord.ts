// A fake Discord (REST v10 + gateway websocket) for the real discord.js Client, built from
// ../shared/docs/discord-api.md. It enforces what the bot depends on (auth, role hierarchy and
// permissions, error codes, per-guild role buckets, the privileged members intent), validates every
// JSON body it sends or receives against the OpenAPI spec, and records what the bot did.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordSnowflake } from '@sapphire/snowflake';
import { WebSocket, WebSocketServer } from 'ws';
import { close, listen, readBody, sendJson } from './http';
import { discordSpec } from './spec';

export const PERMISSIONS = { KICK_MEMBERS: 1n << 1n, ADMINISTRATOR: 1n << 3n, MANAGE_GUILD: 1n << 5n, MANAGE_ROLES: 1n << 28n, MANAGE_NICKNAMES: 1n << 27n, MANAGE_MESSAGES: 1n << 13n, VIEW_CHANNEL: 1n << 10n, SEND_MESSAGES: 1n << 11n };
const INTENT_GUILD_MEMBERS = 1 << 1;

export const snowflake = () => DiscordSnowflake.generate().toString();

/** A new guild id that Discord routes to shard `id` of `count`: its timestamp (the bits above 22) picks the shard. */
function guildIdOnShard(id: number, count: number): string {
  for (let timestamp = Date.now(); ; timestamp++) {
    const guildId = DiscordSnowflake.generate({ timestamp }).toString();
    if (shardOf(guildId, count) === id) return guildId;
  }
}

export interface FakeRole {
  id: string;
  name: string;
  permissions: bigint;
  position: number;
  managed: boolean;
}

/** A channel permission overwrite: type 0 names a role, 1 a member. */
export interface FakeOverwrite {
  id: string;
  type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  channelId: string;
  /** The channel's permission overwrites; commands are run in that channel. */
  overwrites: FakeOverwrite[];
  roles: Map<string, FakeRole>;
  /** user id → role ids (without @everyone) */
  members: Map<string, { roles: string[]; joinedAt: string; nick?: string | null }>;
}

export interface NickWrite {
  guildId: string;
  userId: string;
  nick: string | null | undefined;
  status: number;
  reason: string | undefined;
}

export interface RoleWrite {
  method: 'PUT' | 'DELETE';
  guildId: string;
  userId: string;
  roleId: string;
  status: number;
  reason: string | undefined;
}

export interface DiscordRequest {
  method: string;
  template: string;
  path: string;
  status: number;
  authorized: boolean;
  /** discord.js's Client says so in it ("discord.js/14…"); a bare @discordjs/rest, such as @discordjs/proxy's, does not. */
  userAgent: string;
}

/** An answer instead of the real one; with `hold`, given only once it settles (the real one if no status), to force an interleaving. */
export type DiscordFault = { status?: number; body?: unknown; headers?: Record<string, string>; hold?: Promise<unknown> };

interface Message {
  id: string;
  content: string;
  embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  components: unknown[];
  flags: number;
  edited: boolean;
}

export interface InteractionRecord {
  id: string;
  token: string;
  guildId: string;
  userId: string;
  callbacks: { type: number; data?: Record<string, unknown> }[];
  message?: Message;
  /** Every content the original response has had, edits included, in order. */
  history: string[];
  /** When Discord received it, and every response and edit since: for order and timing. */
  receivedAt: number;
  timeline: { at: number; kind: 'callback' | 'edit'; type?: number; text: string; interim: boolean }[];
  /** Set once the bot has said something final: a reply, or an edit after a deferral that is not interim. */
  answered: boolean;
}

const ROUTES: [string, string][] = [
  ['GET', '/gateway/bot'],
  ['GET', '/applications/{application_id}/commands'],
  ['PUT', '/applications/{application_id}/commands'],
  ['PUT', '/applications/{application_id}/guilds/{guild_id}/commands'],
  ['GET', '/guilds/{guild_id}'],
  ['GET', '/guilds/{guild_id}/members'],
  ['GET', '/guilds/{guild_id}/members/{user_id}'],
  ['PATCH', '/guilds/{guild_id}/members/{user_id}'],
  ['PUT', '/guilds/{guild_id}/members/{user_id}/roles/{role_id}'],
  ['DELETE', '/guilds/{guild_id}/members/{user_id}/roles/{role_id}'],
  ['GET', '/guilds/{guild_id}/roles'],
  ['POST', '/interactions/{interaction_id}/{interaction_token}/callback'],
  ['GET', '/webhooks/{webhook_id}/{webhook_token}/messages/@original'],
  ['PATCH', '/webhooks/{webhook_id}/{webhook_token}/messages/@original'],
  ['POST', '/webhooks/{webhook_id}/{webhook_token}'],
  ['POST', '/channels/{channel_id}/messages'],
  ['GET', '/users/@me'],
];
const PUBLIC_ROUTES = new Set(['/users/@me', '/interactions/{interaction_id}/{interaction_token}/callback', '/webhooks/{webhook_id}/{webhook_token}/messages/@original', '/webhooks/{webhook_id}/{webhook_token}']);

const errorBody = (code: number, message: string) => ({ code, message });

/** A gateway session: its intents, its sequence, and the shard `[id, count]` it identified as. */
interface Session {
  ws: WebSocket;
  intents: number;
  seq: number;
  shard: [number, number];
}

/** Discord's routing: `(guild_id >> 22) % num_shards` (docs: Sharding). */
export const shardOf = (guildId: string, count: number) => Number((BigInt(guildId) >> 22n) % BigInt(count));

export class FakeDiscord {
  readonly token = `${Buffer.from(snowflake()).toString('base64url')}.${randomBytes(4).toString('base64url')}.${randomBytes(20).toString('base64url')}`;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly guilds = new Map<string, FakeGuild>();
  readonly users = new Map<string, { id: string; username: string }>();
  readonly requests: DiscordRequest[] = [];
  readonly roleWrites: RoleWrite[] = [];
  readonly nickWrites: NickWrite[] = [];
  /** Messages the bot posted in channels (the log channel). */
  readonly channelMessages: { channelId: string; guildId: string; content: string }[] = [];
  /** Discord OAuth2 (identify): the app's secret and redirects, and who is logged in to Discord in the browser. */
  readonly oauth = {
    clientSecret: 'discord-client-secret-3e9b',
    redirectUris: [] as string[],
    browserUser: undefined as string | undefined,
    codes: new Map<string, { userId: string; redirectUri: string; used: boolean }>(),
    tokens: new Map<string, string>(),
    /** Code exchanges received; while `hold` is set, each waits for it before answering (race tests). */
    exchanges: 0,
    hold: undefined as Promise<void> | undefined,
  };
  readonly specErrors: string[] = [];
  readonly interactions = new Map<string, InteractionRecord>();
  globalCommands: Record<string, unknown>[] = [];
  /** Gateway member requests (op 8) received, with how many user ids each named. */
  readonly memberRequests: { guildId: string; userIds: number }[] = [];
  /**
   * Member reads, the bound issue 12 sets: one per REST Get Guild Member and one per gateway op 8,
   * whatever it names. Pages of List Guild Members (the index's reconciliation) are counted apart.
   */
  readonly memberReads = { rest: 0, gateway: 0, listPages: 0, total: () => this.memberReads.rest + this.memberReads.gateway };
  commandPuts = 0;
  /** Whether the application may use the privileged Server Members intent. */
  membersIntentAllowed = true;
  /** Role add/remove bucket per guild: a fixed window. */
  roleBucket = { limit: 10, windowMs: 1_000 };
  fault: ((method: string, template: string, params: Record<string, string>) => DiscordFault | undefined) | undefined;
  /** Which edits are progress notices rather than answers (the harness knows the bot's mark). */
  interim: (text: string) => boolean = () => false;
  /** Called as each role write takes effect, so tests can judge it against the truth of that moment. */
  onRoleWrite: ((write: RoleWrite) => void) | undefined;
  /** Told of each nickname Discord accepted, as it is written. */
  onNickWrite: ((write: NickWrite) => void) | undefined;
  /** What GET /gateway/bot recommends in `shards`. */
  recommendedShards = 1;
  /** Fewer shards than this closes the session with 4011 (Sharding required), as Discord does for a bot too big for its shards. */
  requiredShards = 1;
  /** Every IDENTIFY's shard, in order (but one refused by `identifySpacingMs`), and every close the gateway sent with its code. */
  readonly identifies: [number, number][] = [];
  /**
   * Discord's session start limit: one IDENTIFY per 5 s for the bot (max_concurrency 1, as /gateway/bot
   * says), wherever it comes from; one sooner is answered with op 9 Invalid Session (not resumable).
   * Off unless a test sets it: most tests start and stop bots in one world faster than that.
   */
  identifySpacingMs: number | undefined;
  /** When each IDENTIFY arrived, as which shard, and whether the limit refused it. */
  readonly identifyTimes: { shard: [number, number]; at: number; refused: boolean }[] = [];
  /** Gateway connections opened; while `helloHold` is set, each waits for it before HELLO, so shards can be made to identify at the same moment (race tests). */
  gatewayConnections = 0;
  helloHold: Promise<void> | undefined;
  readonly gatewayCloses: { code: number; shard: unknown }[] = [];
  url = '';
  private readonly sockets = new Set<Session>();
  private readonly buckets = new Map<string, { start: number; used: number }>();
  /** Guilds in an outage: their events are not delivered (Discord drops them for the bot). */
  private readonly unavailable = new Set<string>();
  private server?: Awaited<ReturnType<typeof listen>>['server'];
  private wss?: WebSocketServer;

  constructor() {
    this.botUserId = Buffer.from(this.token.split('.')[0]!, 'base64url').toString('utf8');
    this.applicationId = this.botUserId;
    this.users.set(this.botUserId, { id: this.botUserId, username: 'gatepass' });
  }

  // ── world building ────────────────────────────────────────────────────────────────────────

  /** A guild with @everyone and the bot's own role (Manage Roles, Manage Nicknames) at `botRolePosition`. */
  addGuild(name: string, options: { botRolePosition?: number; botCanManageRoles?: boolean; botCanManageNicknames?: boolean; onShard?: [number, number] } = {}): FakeGuild {
    const id = options.onShard ? guildIdOnShard(...options.onShard) : snowflake();
    const owner = this.addUser(`${name}-owner`);
    const guild: FakeGuild = { id, name, ownerId: owner, channelId: snowflake(), overwrites: [], roles: new Map(), members: new Map() };
    guild.roles.set(id, { id, name: '@everyone', permissions: PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.SEND_MESSAGES, position: 0, managed: false });
    const botRole = this.addRoleTo(guild, 'gatepass', {
      position: options.botRolePosition ?? 10,
      permissions: (options.botCanManageRoles === false ? 0n : PERMISSIONS.MANAGE_ROLES) | (options.botCanManageNicknames === false ? 0n : PERMISSIONS.MANAGE_NICKNAMES),
      managed: true,
    });
    guild.members.set(owner, { roles: [], joinedAt: new Date().toISOString() });
    guild.members.set(this.botUserId, { roles: [botRole], joinedAt: new Date().toISOString() });
    this.guilds.set(id, guild);
    return guild;
  }

  addUser(username: string): string {
    const id = snowflake();
    this.users.set(id, { id, username });
    return id;
  }

  addRole(guildId: string, name: string, options: { position?: number; permissions?: bigint; managed?: boolean } = {}): string {
    const guild = this.guild(guildId);
    const id = this.addRoleTo(guild, name, options);
    this.dispatchAll('GUILD_ROLE_CREATE', { guild_id: guildId, role: this.roleJson(guild.roles.get(id)!) });
    return id;
  }

  private addRoleTo(guild: FakeGuild, name: string, options: { position?: number; permissions?: bigint; managed?: boolean }): string {
    const id = snowflake();
    guild.roles.set(id, { id, name, permissions: options.permissions ?? 0n, position: options.position ?? 1, managed: options.managed ?? false });
    return id;
  }

  /** Changes a role as an admin would (e.g. moving it), sending GUILD_ROLE_UPDATE. */
  updateRole(guildId: string, roleId: string, changes: Partial<Omit<FakeRole, 'id'>>): void {
    const guild = this.guild(guildId);
    const role = Object.assign(guild.roles.get(roleId)!, changes);
    this.dispatchAll('GUILD_ROLE_UPDATE', { guild_id: guildId, role: this.roleJson(role) });
  }

  /** Sets the channel's permission overwrites as an admin would, sending CHANNEL_UPDATE. */
  setOverwrites(guildId: string, overwrites: FakeOverwrite[]): void {
    const guild = this.guild(guildId);
    guild.overwrites = overwrites.map((o) => ({ ...o }));
    this.dispatchAll('CHANNEL_UPDATE', { ...this.channelJson(guild), guild_id: guildId });
  }

  deleteRole(guildId: string, roleId: string): void {
    const guild = this.guild(guildId);
    guild.roles.delete(roleId);
    for (const member of guild.members.values()) member.roles = member.roles.filter((r) => r !== roleId);
    this.dispatchAll('GUILD_ROLE_DELETE', { guild_id: guildId, role_id: roleId });
  }

  /** Adds a member; sends GUILD_MEMBER_ADD to sessions with the Server Members intent. */
  addMember(guildId: string, userId: string, roles: string[] = []): void {
    const guild = this.guild(guildId);
    guild.members.set(userId, { roles: [...roles], joinedAt: new Date().toISOString() });
    this.dispatchAll('GUILD_MEMBER_ADD', { ...this.memberJson(guild, userId), guild_id: guildId }, INTENT_GUILD_MEMBERS);
  }

  /** A nickname set by hand (or cleared with null). */
  setNick(guildId: string, userId: string, nick: string | null): void {
    const guild = this.guild(guildId);
    guild.members.get(userId)!.nick = nick;
    this.dispatchAll('GUILD_MEMBER_UPDATE', { ...this.memberJson(guild, userId), guild_id: guildId }, INTENT_GUILD_MEMBERS);
  }

  nickOf(guildId: string, userId: string): string | null {
    return this.guild(guildId).members.get(userId)?.nick ?? null;
  }

  removeMember(guildId: string, userId: string): void {
    this.guild(guildId).members.delete(userId);
    this.dispatchAll('GUILD_MEMBER_REMOVE', { guild_id: guildId, user: this.userJson(userId) }, INTENT_GUILD_MEMBERS);
  }

  /** The bot is removed from the guild (kicked, or the guild deleted): GUILD_DELETE without `unavailable`. */
  removeGuild(guildId: string): void {
    this.guilds.delete(guildId);
    this.dispatchAll('GUILD_DELETE', { id: guildId });
  }

  /** An outage: GUILD_DELETE with `unavailable: true`; events are lost until GUILD_CREATE brings it back. */
  setAvailable(guildId: string, available: boolean): void {
    const guild = this.guild(guildId);
    if (available) {
      this.unavailable.delete(guildId);
      this.dispatchAll('GUILD_CREATE', this.guildCreate(guild));
    } else {
      this.dispatchAll('GUILD_DELETE', { id: guildId, unavailable: true });
      this.unavailable.add(guildId);
    }
  }

  memberRoles(guildId: string, userId: string): string[] {
    return [...(this.guild(guildId).members.get(userId)?.roles ?? [])];
  }

  /** Sets a member's roles as a moderator would by hand. */
  setMemberRoles(guildId: string, userId: string, roles: string[]): void {
    const guild = this.guild(guildId);
    guild.members.get(userId)!.roles = [...roles];
    this.dispatchAll('GUILD_MEMBER_UPDATE', { ...this.memberJson(guild, userId), guild_id: guildId }, INTENT_GUILD_MEMBERS);
  }

  private guild(guildId: string): FakeGuild {
    const guild = this.guilds.get(guildId);
    if (!guild) throw new Error(`no fake guild ${guildId}`);
    return guild;
  }

  // ── interactions ──────────────────────────────────────────────────────────────────────────

  /**
   * Sends a chat-input command as Discord would. `options` are raw API options; roles and users
   * named by them are put into `resolved` automatically.
   */
  sendCommand(guildId: string, userId: string, name: string, options: Record<string, unknown>[] = []): InteractionRecord {
    const command = this.globalCommands.find((c) => c.name === name);
    const guild = this.guild(guildId);
    const resolved = this.resolve(guild, options);
    return this.interact(guildId, userId, 2, { id: (command?.id as string | undefined) ?? snowflake(), name, type: 1, options, ...(resolved ? { resolved } : {}) });
  }

  /** Presses a button on a message the bot sent in answer to `on`. */
  clickButton(on: InteractionRecord, userId: string, customId: string): InteractionRecord {
    if (!on.message) throw new Error('that interaction has no message to click on');
    return this.interact(on.guildId, userId, 3, { custom_id: customId, component_type: 2 }, on.message);
  }

  /** Sends any interaction payload; for hostile-input tests. */
  interact(guildId: string, userId: string, type: number, data: Record<string, unknown>, message?: Message): InteractionRecord {
    const guild = this.guild(guildId);
    const record: InteractionRecord = { id: snowflake(), token: `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`, guildId, userId, callbacks: [], message, answered: false, history: [], receivedAt: Date.now(), timeline: [] };
    this.interactions.set(record.token, record);
    const payload: Record<string, unknown> = {
      id: record.id,
      application_id: this.applicationId,
      type,
      token: record.token,
      version: 1,
      guild_id: guildId,
      channel_id: guild.channelId,
      channel: { id: guild.channelId, type: 0, name: 'general', guild_id: guildId },
      guild: { id: guildId, locale: 'en-US', features: [] },
      // Both are the permissions in the channel, overwrites applied, as Discord computes them.
      member: { ...this.memberJson(guild, userId), permissions: this.channelPermissionsOf(guild, userId).toString() },
      app_permissions: this.channelPermissionsOf(guild, this.botUserId).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      context: 0,
      entitlements: [],
      authorizing_integration_owners: { '0': guildId },
      attachment_size_limit: 10_485_760,
      data,
    };
    if (message) payload.message = this.messageJson(message);
    this.dispatchAll('INTERACTION_CREATE', payload);
    return record;
  }

  /** Waits until the bot has answered the interaction; returns the final text. */
  async answer(record: InteractionRecord, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!record.answered) {
      if (Date.now() > deadline) throw new Error(`no answer to interaction within ${timeoutMs} ms (callbacks: ${JSON.stringify(record.callbacks)})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return record.message ? messageText(record.message) : '';
  }

  private resolve(guild: FakeGuild, options: Record<string, unknown>[]): Record<string, unknown> | undefined {
    const flat = options.flatMap((o) => [o, ...((o.options as Record<string, unknown>[] | undefined) ?? [])]);
    const roles: Record<string, unknown> = {};
    const users: Record<string, unknown> = {};
    const members: Record<string, unknown> = {};
    for (const option of flat) {
      const id = String(option.value);
      if (option.type === 8 && guild.roles.has(id)) roles[id] = this.roleJson(guild.roles.get(id)!);
      if (option.type === 6 && this.users.has(id)) {
        users[id] = this.userJson(id);
        if (guild.members.has(id)) {
          const { user: _user, ...member } = this.memberJson(guild, id);
          members[id] = { ...member, permissions: this.channelPermissionsOf(guild, id).toString() };
        }
      }
    }
    if (Object.keys(roles).length + Object.keys(users).length === 0) return undefined;
    return { ...(Object.keys(roles).length ? { roles } : {}), ...(Object.keys(users).length ? { users, members } : {}) };
  }

  // ── JSON shapes (checked against the spec's schemas) ─────────────────────────────────────

  userJson(userId: string): Record<string, unknown> {
    const user = this.users.get(userId) ?? { id: userId, username: 'unknown' };
    const json = { id: user.id, username: user.username, avatar: null, discriminator: '0', public_flags: 0, flags: 0, global_name: null, primary_guild: null, bot: userId === this.botUserId };
    this.checkSchema('UserResponse', json);
    return json;
  }

  memberJson(guild: FakeGuild, userId: string): Record<string, unknown> {
    const member = guild.members.get(userId);
    const json = {
      avatar: null,
      banner: null,
      communication_disabled_until: null,
      flags: 0,
      joined_at: member?.joinedAt ?? new Date().toISOString(),
      nick: member?.nick ?? null,
      pending: false,
      premium_since: null,
      roles: [...(member?.roles ?? [])],
      user: this.userJson(userId),
      mute: false,
      deaf: false,
    };
    this.checkSchema('GuildMemberResponse', json);
    return json;
  }

  roleJson(role: FakeRole): Record<string, unknown> {
    const json = {
      id: role.id,
      name: role.name,
      description: null,
      permissions: role.permissions.toString(),
      position: role.position,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      managed: role.managed,
      mentionable: false,
      icon: null,
      unicode_emoji: null,
      flags: 0,
      ...(role.managed ? { tags: { bot_id: this.botUserId } } : {}),
    };
    this.checkSchema('GuildRoleResponse', json);
    return json;
  }

  private channelJson(guild: FakeGuild): Record<string, unknown> {
    const permission_overwrites = guild.overwrites.map((o) => ({ id: o.id, type: o.type, allow: o.allow.toString(), deny: o.deny.toString() }));
    return { id: guild.channelId, type: 0, name: 'general', position: 0, permission_overwrites, parent_id: null, nsfw: false, topic: null, last_message_id: null, rate_limit_per_user: 0 };
  }

  private messageJson(message: Message): Record<string, unknown> {
    const json = {
      id: message.id,
      channel_id: snowflake(),
      author: this.userJson(this.botUserId),
      content: message.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: message.edited ? new Date().toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: message.embeds ?? [],
      pinned: false,
      type: 20,
      flags: message.flags,
      components: message.components,
      application_id: this.applicationId,
      webhook_id: this.applicationId,
    };
    return json;
  }

  permissionsOf(guild: FakeGuild, userId: string): bigint {
    if (userId === guild.ownerId) return (1n << 50n) - 1n;
    const member = guild.members.get(userId);
    let bits = guild.roles.get(guild.id)?.permissions ?? 0n;
    for (const roleId of member?.roles ?? []) bits |= guild.roles.get(roleId)?.permissions ?? 0n;
    return bits & PERMISSIONS.ADMINISTRATOR ? (1n << 50n) - 1n : bits;
  }

  /** Discord's algorithm: server-wide permissions, then @everyone's overwrite, the roles' together, the member's. */
  channelPermissionsOf(guild: FakeGuild, userId: string): bigint {
    let bits = this.permissionsOf(guild, userId);
    if (bits & PERMISSIONS.ADMINISTRATOR || userId === guild.ownerId) return bits;
    const apply = (overwrite: { allow: bigint; deny: bigint } | undefined) => {
      if (overwrite) bits = (bits & ~overwrite.deny) | overwrite.allow;
    };
    const roles = guild.members.get(userId)?.roles ?? [];
    apply(guild.overwrites.find((o) => o.type === 0 && o.id === guild.id));
    const ofRoles = guild.overwrites.filter((o) => o.type === 0 && roles.includes(o.id));
    apply(ofRoles.reduce((all, o) => ({ allow: all.allow | o.allow, deny: all.deny | o.deny }), { allow: 0n, deny: 0n }));
    apply(guild.overwrites.find((o) => o.type === 1 && o.id === userId));
    return bits;
  }

  private highestPosition(guild: FakeGuild, userId: string): number {
    return Math.max(0, ...(guild.members.get(userId)?.roles ?? []).map((r) => guild.roles.get(r)?.position ?? 0));
  }

  private checkSchema(name: string, value: unknown): void {
    const problems = discordSpec.schema(name, value);
    if (problems.length > 0) this.specErrors.push(`${name}: ${problems.join('; ')}`);
  }

  // ── server ────────────────────────────────────────────────────────────────────────────────

  async start(): Promise<string> {
    const { server, url } = await listen((req, res) => void this.handle(req, res));
    this.server = server;
    this.url = url;
    this.wss = new WebSocketServer({ noServer: true });
    // discord.js appends "?v=10&encoding=json" to the URL without a slash: accept any path.
    server.on('upgrade', (req, socket, head) => this.wss!.handleUpgrade(req, socket, head, (ws) => this.gateway(ws)));
    return url;
  }

  async close(): Promise<void> {
    for (const { ws } of this.sockets) ws.terminate();
    this.wss?.close();
    if (this.server) await close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/api\/v10/, '');
    if (url.pathname === '/oauth2/authorize' && req.method === 'GET') return this.oauthAuthorize(url.searchParams, res);
    if (path === '/oauth2/token' && req.method === 'POST') return this.oauthToken(req, res);
    const segments = path.split('/').map((s) => decodeURIComponent(s));
    const match = ROUTES.map(([method, template]) => ({ method, template, params: matchTemplate(template, segments) })).find((r) => r.method === req.method && r.params);
    const authorized = req.headers.authorization === `Bot ${this.token}`;
    const record: DiscordRequest = { method: req.method ?? '', template: match?.template ?? path, path, status: 0, authorized, userAgent: req.headers['user-agent'] ?? '' };
    this.requests.push(record);
    const text = await readBody(req);
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (match && status >= 200 && status < 300 && body !== undefined) {
        const problems = discordSpec.response(match.template, match.method.toLowerCase(), status, body);
        if (problems.length > 0) this.specErrors.push(`response ${match.method} ${match.template}: ${problems.join('; ')}`);
      }
      if (status === 204 && body !== undefined) this.specErrors.push(`204 with a body on ${path}`);
      sendJson(res, status, body, { 'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '49', 'x-ratelimit-reset-after': '1', 'x-ratelimit-reset': String(Date.now() / 1000 + 1), 'x-ratelimit-bucket': 'fake-default', ...headers });
    };
    if (!match) return reply(404, errorBody(0, '404: Not Found'));
    if (!PUBLIC_ROUTES.has(match.template) && !authorized) return reply(401, errorBody(0, '401: Unauthorized'));
    let body: unknown;
    if (text === '' && discordSpec.bodyRequired(match.template, match.method.toLowerCase())) {
      this.specErrors.push(`request ${match.method} ${match.template}: no body`);
      return reply(400, errorBody(50109, 'The request body contains invalid JSON.'));
    }
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return reply(400, errorBody(50109, 'The request body contains invalid JSON.'));
      }
      const problems = discordSpec.request(match.template, match.method.toLowerCase(), docsToSpec(body));
      if (problems.length > 0) {
        this.specErrors.push(`request ${match.method} ${match.template}: ${problems.join('; ')}`);
        return reply(400, { ...errorBody(50035, 'Invalid Form Body'), errors: {} });
      }
    }
    const fault = this.fault?.(match.method, match.template, match.params!);
    if (fault?.hold) await fault.hold.catch(() => undefined);
    if (fault?.status) return reply(fault.status, fault.body, fault.headers);
    this.route(match.method, match.template, match.params!, body, req, reply);
  }

  /** Discord's consent page, decided at once for `oauth.browserUser` (identify only). */
  private oauthAuthorize(params: URLSearchParams, res: ServerResponse): void {
    const redirectUri = params.get('redirect_uri') ?? '';
    if (params.get('client_id') !== this.applicationId || !this.oauth.redirectUris.includes(redirectUri)) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('Invalid OAuth2 redirect_uri or client_id');
      return;
    }
    const back = new URL(redirectUri);
    const state = params.get('state') ?? '';
    if (params.get('response_type') !== 'code' || params.get('scope') !== 'identify') {
      this.specErrors.push(`oauth2/authorize: unexpected parameters ${params.toString()}`);
      back.search = new URLSearchParams({ error: 'invalid_request', state }).toString();
    } else if (!this.oauth.browserUser) {
      back.search = new URLSearchParams({ error: 'access_denied', state }).toString();
    } else {
      const code = randomBytes(16).toString('hex');
      this.oauth.codes.set(code, { userId: this.oauth.browserUser, redirectUri, used: false });
      back.search = new URLSearchParams({ code, state }).toString();
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  private async oauthToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    this.oauth.exchanges++;
    await this.oauth.hold;
    const basic = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
    if (basic !== `${this.applicationId}:${this.oauth.clientSecret}`) return sendJson(res, 401, { error: 'invalid_client' });
    const code = this.oauth.codes.get(form.get('code') ?? '');
    if (form.get('grant_type') !== 'authorization_code' || !code || code.used || code.redirectUri !== form.get('redirect_uri')) return sendJson(res, 400, { error: 'invalid_grant' });
    code.used = true;
    const token = randomBytes(16).toString('hex');
    this.oauth.tokens.set(token, code.userId);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 604_800, refresh_token: randomBytes(16).toString('hex'), scope: 'identify' });
  }

  private route(method: string, template: string, params: Record<string, string>, body: unknown, req: IncomingMessage, reply: (status: number, body?: unknown, headers?: Record<string, string>) => void): void {
    const guild = params.guild_id ? this.guilds.get(params.guild_id) : undefined;
    if (params.guild_id && !guild) return reply(404, errorBody(10004, 'Unknown Guild'));
    switch (`${method} ${template}`) {
      case 'GET /gateway/bot':
        return reply(200, { url: this.url.replace(/^http/, 'ws'), shards: this.recommendedShards, session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 } });
      case 'GET /applications/{application_id}/commands':
        return reply(200, this.globalCommands);
      case 'PUT /applications/{application_id}/commands':
      case 'PUT /applications/{application_id}/guilds/{guild_id}/commands': {
        this.commandPuts++;
        const commands = (body as Record<string, unknown>[]).map((c) => ({
          id: this.globalCommands.find((g) => g.name === c.name)?.id ?? snowflake(),
          application_id: this.applicationId,
          version: snowflake(),
          type: 1,
          default_member_permissions: null,
          dm_permission: true,
          nsfw: false,
          integration_types: [0],
          contexts: null,
          options: [],
          ...c,
        }));
        if (template === '/applications/{application_id}/commands') this.globalCommands = commands;
        return reply(200, commands);
      }
      case 'GET /guilds/{guild_id}':
        return reply(200, this.guildJson(guild!));
      case 'GET /guilds/{guild_id}/members': {
        // Requires the Server Members intent; sorted by user id, `after` exclusive, limit 1..1000.
        if (!this.membersIntentAllowed) return reply(403, errorBody(50001, 'Missing Access'));
        const query = new URL(req.url ?? '/', 'http://fake').searchParams;
        const limit = Number(query.get('limit') ?? 1);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return reply(400, { ...errorBody(50035, 'Invalid Form Body'), errors: {} });
        const after = BigInt(query.get('after') ?? '0');
        this.memberReads.listPages++;
        const ids = [...guild!.members.keys()].filter((id) => BigInt(id) > after).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).slice(0, limit);
        return reply(200, ids.map((id) => this.memberJson(guild!, id)));
      }
      case 'GET /guilds/{guild_id}/members/{user_id}':
        this.memberReads.rest++;
        if (!guild!.members.has(params.user_id!)) return reply(404, errorBody(10007, 'Unknown Member'));
        return reply(200, this.memberJson(guild!, params.user_id!));
      case 'GET /guilds/{guild_id}/roles':
        return reply(200, [...guild!.roles.values()].map((r) => this.roleJson(r)));
      case 'PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}':
      case 'DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}':
        return this.roleWrite(method as 'PUT' | 'DELETE', guild!, params.user_id!, params.role_id!, req, reply);
      case 'PATCH /guilds/{guild_id}/members/{user_id}':
        return this.nickWrite(guild!, params.user_id!, body as { nick?: string | null }, req, reply);
      case 'GET /users/@me': {
        const userId = this.oauth.tokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
        if (!userId) return reply(401, errorBody(0, '401: Unauthorized'));
        // The PII form of a user (identify scope: no email).
        return reply(200, { ...this.userJson(userId), mfa_enabled: false, locale: 'en-US' });
      }
      case 'POST /channels/{channel_id}/messages': {
        const guildOf = [...this.guilds.values()].find((g) => g.channelId === params.channel_id);
        if (!guildOf) return reply(404, errorBody(10003, 'Unknown Channel'));
        const data = body as { content?: string; embeds?: unknown[] };
        const message: Message = { id: snowflake(), content: data.content ?? '', components: [], flags: 0, edited: false };
        this.channelMessages.push({ channelId: params.channel_id!, guildId: guildOf.id, content: message.content });
        return reply(200, { ...this.messageJson(message), channel_id: params.channel_id });
      }
      case 'POST /interactions/{interaction_id}/{interaction_token}/callback':
        return this.callback(params.interaction_token!, body as { type: number; data?: Record<string, unknown> }, new URL(req.url ?? '/', 'http://fake').searchParams.get('with_response') === 'true', reply);
      case 'GET /webhooks/{webhook_id}/{webhook_token}/messages/@original':
      case 'PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original': {
        const record = this.interactions.get(params.webhook_token!);
        if (!record || params.webhook_id !== this.applicationId || !record.message) return reply(404, errorBody(10008, 'Unknown Message'));
        if (method === 'PATCH') {
          const data = body as { content?: string; components?: unknown[]; embeds?: Message['embeds'] };
          if (data.content !== undefined) record.message.content = data.content;
          if (data.embeds !== undefined) record.message.embeds = toResponseEmbeds(data.embeds);
          const text = messageText(record.message);
          record.history.push(text);
          record.timeline.push({ at: Date.now(), kind: 'edit', text, interim: this.interim(text) });
          if (data.components !== undefined) record.message.components = toResponseComponents(data.components);
          record.message.edited = true;
          record.message.flags &= ~128; // no longer "thinking"
          if (!this.interim(text)) record.answered = true;
        }
        return reply(200, this.messageJson(record.message));
      }
      case 'POST /webhooks/{webhook_id}/{webhook_token}': {
        const record = this.interactions.get(params.webhook_token!);
        if (!record) return reply(404, errorBody(10015, 'Unknown Webhook'));
        const data = body as { content?: string; flags?: number };
        return reply(200, this.messageJson({ id: snowflake(), content: data.content ?? '', components: [], flags: data.flags ?? 0, edited: false }));
      }
    }
    reply(404, errorBody(0, '404: Not Found'));
  }

  /**
   * Modify Guild Member with `nick` (the only field the bot sends): Manage Nicknames, and only on a
   * member whose highest role is below the bot's and who is not the owner; at most 32 characters.
   */
  private nickWrite(guild: FakeGuild, userId: string, body: { nick?: string | null }, req: IncomingMessage, reply: (status: number, body?: unknown) => void): void {
    const reasonHeader = req.headers['x-audit-log-reason'];
    const write: NickWrite = { guildId: guild.id, userId, nick: body.nick, status: 0, reason: typeof reasonHeader === 'string' ? decodeURIComponent(reasonHeader) : undefined };
    this.nickWrites.push(write);
    const done = (status: number, answer?: unknown) => {
      write.status = status;
      reply(status, answer);
    };
    const member = guild.members.get(userId);
    if (!member) return done(404, errorBody(10007, 'Unknown Member'));
    const extra = Object.keys(body).filter((key) => key !== 'nick');
    if (extra.length > 0) this.specErrors.push(`PATCH member: the bot sent ${extra.join(', ')}; it only ever changes nicknames`);
    if (typeof body.nick === 'string' && Array.from(body.nick).length > 32) {
      return done(400, { code: 50035, message: 'Invalid Form Body', errors: { nick: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 32 in length.' }] } } });
    }
    if (!(this.permissionsOf(guild, this.botUserId) & PERMISSIONS.MANAGE_NICKNAMES) || userId === guild.ownerId || this.highestPosition(guild, userId) >= this.highestPosition(guild, this.botUserId)) {
      return done(403, errorBody(50013, 'Missing Permissions'));
    }
    const changed = (member.nick ?? null) !== (body.nick || null);
    member.nick = body.nick || null;
    if (changed) this.dispatchAll('GUILD_MEMBER_UPDATE', { ...this.memberJson(guild, userId), guild_id: guild.id }, INTENT_GUILD_MEMBERS);
    done(200, this.memberJson(guild, userId));
    this.onNickWrite?.(write);
  }

  private roleWrite(method: 'PUT' | 'DELETE', guild: FakeGuild, userId: string, roleId: string, req: IncomingMessage, reply: (status: number, body?: unknown, headers?: Record<string, string>) => void): void {
    const reasonHeader = req.headers['x-audit-log-reason'];
    const write: RoleWrite = { method, guildId: guild.id, userId, roleId, status: 0, reason: typeof reasonHeader === 'string' ? decodeURIComponent(reasonHeader) : undefined };
    this.roleWrites.push(write);
    const bucket = this.takeRoleBucket(guild.id);
    const done = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
      write.status = status;
      reply(status, body, { ...bucket.headers, ...extra });
    };
    if (bucket.exceeded) {
      return done(429, { message: 'You are being rate limited.', retry_after: bucket.retryAfter, global: false, code: 0 }, { 'retry-after': bucket.retryAfter.toFixed(3), 'x-ratelimit-scope': 'user' });
    }
    const member = guild.members.get(userId);
    const role = guild.roles.get(roleId);
    if (!member) return done(404, errorBody(10007, 'Unknown Member'));
    if (!role) return done(404, errorBody(10011, 'Unknown Role'));
    const botPermissions = this.permissionsOf(guild, this.botUserId);
    if (!(botPermissions & PERMISSIONS.MANAGE_ROLES) || role.managed || role.id === guild.id || role.position >= this.highestPosition(guild, this.botUserId)) {
      return done(403, errorBody(50013, 'Missing Permissions'));
    }
    const had = member.roles.includes(roleId);
    member.roles = method === 'PUT' ? (had ? member.roles : [...member.roles, roleId]) : member.roles.filter((r) => r !== roleId);
    if (had !== (method === 'PUT')) this.dispatchAll('GUILD_MEMBER_UPDATE', { ...this.memberJson(guild, userId), guild_id: guild.id }, INTENT_GUILD_MEMBERS);
    done(204);
    this.onRoleWrite?.(write);
  }

  private takeRoleBucket(guildId: string): { exceeded: boolean; retryAfter: number; headers: Record<string, string> } {
    const now = Date.now();
    let bucket = this.buckets.get(guildId);
    if (!bucket || now - bucket.start >= this.roleBucket.windowMs) {
      bucket = { start: now, used: 0 };
      this.buckets.set(guildId, bucket);
    }
    const exceeded = bucket.used >= this.roleBucket.limit;
    if (!exceeded) bucket.used++;
    const resetAfter = Math.max(0, (bucket.start + this.roleBucket.windowMs - now) / 1000);
    return {
      exceeded,
      retryAfter: resetAfter,
      headers: {
        'x-ratelimit-limit': String(this.roleBucket.limit),
        'x-ratelimit-remaining': String(this.roleBucket.limit - bucket.used),
        'x-ratelimit-reset-after': resetAfter.toFixed(3),
        'x-ratelimit-reset': ((bucket.start + this.roleBucket.windowMs) / 1000).toFixed(3),
        'x-ratelimit-bucket': 'fake-member-roles',
      },
    };
  }

  private callback(token: string, body: { type: number; data?: Record<string, unknown> }, withResponse: boolean, reply: (status: number, body?: unknown) => void): void {
    const record = this.interactions.get(token);
    if (!record) return reply(404, errorBody(10062, 'Unknown interaction'));
    if (record.callbacks.length > 0) return reply(400, errorBody(40060, 'Interaction has already been acknowledged.'));
    record.callbacks.push(body);
    const data = body.data ?? {};
    const interim = body.type === 4 && this.interim(String(data.content ?? ''));
    record.timeline.push({ at: Date.now(), kind: 'callback', type: body.type, text: String(data.content ?? ''), interim });
    const flags = Number(data.flags ?? 0);
    if (body.type === 4) {
      record.message = { id: snowflake(), content: String(data.content ?? ''), embeds: toResponseEmbeds(data.embeds as Message['embeds']), components: toResponseComponents((data.components as unknown[]) ?? []), flags, edited: false };
      record.answered = !interim;
    } else if (body.type === 5) {
      record.message = { id: snowflake(), content: '', components: [], flags: flags | 128, edited: false };
    } else if (body.type === 7 && record.message) {
      if (data.content !== undefined) record.message.content = String(data.content);
      record.answered = true;
    }
    // type 6 (deferred update) keeps the clicked message; a later PATCH edits it.
    if (!withResponse) return reply(204);
    reply(200, { interaction: { id: record.id, type: 2, activity_instance_id: null, response_message_id: record.message?.id ?? null, response_message_loading: body.type === 5, response_message_ephemeral: (flags & 64) !== 0 } });
  }

  // ── gateway ───────────────────────────────────────────────────────────────────────────────

  private gateway(ws: WebSocket): void {
    const session: Session = { ws, intents: -1, seq: 0, shard: [0, 1] };
    const send = (payload: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(payload));
    this.gatewayConnections++;
    const hello = () => send({ op: 10, d: { heartbeat_interval: 45_000 }, s: null, t: null });
    if (this.helloHold) void this.helloHold.then(hello);
    else hello();
    ws.on('message', (raw) => {
      let message: { op: number; d: Record<string, unknown> };
      try {
        message = JSON.parse(String(raw));
      } catch {
        return ws.close(4002, 'Decode error');
      }
      if (message.op === 1) return send({ op: 11 });
      if (message.op === 2) {
        if (message.d.token !== this.token && message.d.token !== `Bot ${this.token}`) return ws.close(4004, 'Authentication failed.');
        const intents = Number(message.d.intents);
        if (intents & INTENT_GUILD_MEMBERS && !this.membersIntentAllowed) return ws.close(4014, 'Disallowed intent(s).');
        // `shard` is optional (one shard); Discord closes with 4010 for one that makes no sense, 4011 when the bot needs more.
        const shard = message.d.shard ?? [0, 1];
        const valid = Array.isArray(shard) && shard.length === 2 && shard.every((n) => Number.isInteger(n)) && shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1];
        if (!valid) return this.closeGateway(ws, 4010, 'Invalid shard.', shard);
        if (shard[1] < this.requiredShards) return this.closeGateway(ws, 4011, 'Sharding required.', shard);
        const at = Date.now();
        const last = this.identifyTimes.findLast((i) => !i.refused);
        const refused = this.identifySpacingMs !== undefined && last !== undefined && at - last.at < this.identifySpacingMs;
        this.identifyTimes.push({ shard: [shard[0], shard[1]], at, refused });
        if (refused) return send({ op: 9, d: false, s: null, t: null });
        session.shard = [shard[0], shard[1]];
        this.identifies.push(session.shard);
        session.intents = intents;
        this.sockets.add(session);
        const dispatch = (t: string, d: unknown) => send({ op: 0, t, s: ++session.seq, d });
        dispatch('READY', {
          v: 10,
          user: this.userJson(this.botUserId),
          guilds: [...this.guilds.keys()].filter((id) => holds(session, id)).map((id) => ({ id, unavailable: true })),
          session_id: randomBytes(16).toString('hex'),
          resume_gateway_url: this.url.replace(/^http/, 'ws'),
          shard: session.shard,
          application: { id: this.applicationId, flags: 0 },
        });
        for (const guild of this.guilds.values()) if (holds(session, guild.id) && !this.unavailable.has(guild.id)) dispatch('GUILD_CREATE', this.guildCreate(guild));
        return;
      }
      if (message.op === 8) return this.requestMembers(session, message.d);
    });
    ws.on('close', () => this.sockets.delete(session));
  }

  private closeGateway(ws: WebSocket, code: number, reason: string, shard: unknown): void {
    this.gatewayCloses.push({ code, shard });
    ws.close(code, reason);
  }

  /** The guild as Get Guild answers it (with_counts), checked against the spec. */
  private guildJson(guild: FakeGuild): Record<string, unknown> {
    const create = this.guildCreate(guild);
    const fields = ['id', 'name', 'icon', 'splash', 'discovery_splash', 'banner', 'description', 'owner_id', 'afk_channel_id', 'afk_timeout', 'verification_level', 'default_message_notifications', 'explicit_content_filter', 'mfa_level', 'system_channel_id', 'system_channel_flags', 'rules_channel_id', 'public_updates_channel_id', 'safety_alerts_channel_id', 'vanity_url_code', 'premium_tier', 'premium_subscription_count', 'preferred_locale', 'nsfw_level', 'premium_progress_bar_enabled', 'application_id', 'max_members', 'roles', 'emojis', 'stickers', 'features'];
    return {
      ...Object.fromEntries(fields.map((f) => [f, create[f]])),
      home_header: null,
      region: 'deprecated',
      widget_enabled: false,
      widget_channel_id: null,
      max_presences: null,
      max_stage_video_channel_users: 50,
      max_video_channel_users: 25,
      nsfw: false,
      incidents_data: null,
      approximate_member_count: guild.members.size,
      approximate_presence_count: 0,
    };
  }

  private guildCreate(guild: FakeGuild): Record<string, unknown> {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      application_id: null,
      max_members: 500_000,
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: guild.members.size,
      roles: [...guild.roles.values()].map((r) => this.roleJson(r)),
      // Without presences Discord sends only the bot's own member (and users in voice).
      members: [this.memberJson(guild, this.botUserId)],
      channels: [this.channelJson(guild)],
      threads: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      emojis: [],
      stickers: [],
      features: [],
    };
  }

  private requestMembers(session: Session, d: Record<string, unknown>): void {
    const guild = this.guilds.get(String(d.guild_id));
    if (!guild) return;
    // Only the shard holding a guild can ask for its members: the bot asked the wrong process.
    if (!holds(session, guild.id)) return void this.specErrors.push(`op 8 for guild ${guild.id} on shard ${session.shard.join('/')}, which does not hold it`);
    const wanted = Array.isArray(d.user_ids) ? (d.user_ids as string[]) : undefined;
    this.memberRequests.push({ guildId: guild.id, userIds: wanted?.length ?? 0 });
    this.memberReads.gateway++;
    if (wanted && wanted.length > 100) this.specErrors.push(`op 8 with ${wanted.length} user_ids (at most 100)`);
    const ids = wanted ? wanted.filter((id) => guild.members.has(id)) : [...guild.members.keys()];
    const members = ids.map((id) => this.memberJson(guild, id));
    const chunks = Math.max(1, Math.ceil(members.length / 1000));
    for (let index = 0; index < chunks; index++) {
      session.ws.send(
        JSON.stringify({
          op: 0,
          t: 'GUILD_MEMBERS_CHUNK',
          s: ++session.seq,
          d: { guild_id: guild.id, members: members.slice(index * 1000, (index + 1) * 1000), chunk_index: index, chunk_count: chunks, nonce: d.nonce, ...(wanted ? { not_found: wanted.filter((id) => !guild.members.has(id)) } : {}) },
        }),
      );
    }
  }

  /** Sends a guild's event to the session holding the guild (every session for an event of no guild). */
  private dispatchAll(t: string, d: unknown, requiredIntent = 0): void {
    const { guild_id: eventGuild, id } = d as { guild_id?: unknown; id?: unknown };
    const guildId = typeof eventGuild === 'string' ? eventGuild : t.startsWith('GUILD_') && typeof id === 'string' ? id : undefined;
    if (guildId !== undefined && this.unavailable.has(guildId)) return;
    for (const session of this.sockets) {
      if (requiredIntent && !(session.intents & requiredIntent)) continue;
      if (guildId !== undefined && !holds(session, guildId)) continue;
      if (session.ws.readyState === WebSocket.OPEN) session.ws.send(JSON.stringify({ op: 0, t, s: ++session.seq, d }));
    }
  }
}

const holds = (session: Session, guildId: string) => shardOf(guildId, session.shard[1]) === session.shard[0];

/**
 * Where the spec and Discord's docs disagree, the docs win (../shared/docs/discord-api.md): the docs
 * give default_member_permissions as a bitfield string, the spec as an integer. Convert before
 * validating so the rest of the body is still checked against the spec.
 */
function docsToSpec(body: unknown): unknown {
  if (!Array.isArray(body)) return body;
  return body.map((command: Record<string, unknown>) =>
    typeof command.default_member_permissions === 'string' && /^\d+$/.test(command.default_member_permissions)
      ? { ...command, default_member_permissions: Number(command.default_member_permissions) }
      : command,
  );
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

/** Discord echoes components with ids added; buttons keep their custom ids. */
/** Discord answers every sent embed as a "rich" one. */
function toResponseEmbeds(embeds: Message['embeds']): Message['embeds'] {
  return (embeds ?? []).map((embed) => ({ type: 'rich', ...embed }));
}

/** What a user reads: the content, then each embed's title, description and fields. */
export function messageText(message: Message): string {
  const embeds = (message.embeds ?? []).map((e) => [e.title, e.description, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])].filter(Boolean).join('\n'));
  return [message.content, ...embeds].filter(Boolean).join('\n');
}

function toResponseComponents(components: unknown[]): unknown[] {
  let next = 1;
  const withIds = (component: Record<string, unknown>): Record<string, unknown> => ({
    ...component,
    id: next++,
    ...(Array.isArray(component.components) ? { components: (component.components as Record<string, unknown>[]).map(withIds) } : {}),
  });
  return (components as Record<string, unknown>[]).map(withIds);
}
