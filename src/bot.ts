// The one place where everything is built and connected. main.ts calls it with the validated
// configuration; the end-to-end tests call it with fakes' addresses and a temporary database.

import type { RESTOptions } from '@discordjs/rest';
import { Client, Events, GatewayCloseCodes, GatewayIntentBits, Options, Partials } from 'discord.js';
import { schedule } from 'node-cron';
import { COMMANDS } from '../commands/index';
import { type Clock, systemClock } from './clock';
import type { Services } from './commands';
import type { Config } from './config';
import { type Database, migrateDatabase, openDatabase } from './database/client';
import { createServerLog } from './discord/serverlog';
import { discordSide } from './discord/servers';
import { interactionRouter } from './interactions';
import { healthCheck } from './health';
import type { Logger } from './log';
import { createMetrics, robloxEndpoint } from './metrics';
import { createGrants } from './oauth/grants';
import { createSignIns } from './oauth/signin';
import { ensureCommandsRegistered } from './registration';
import { createRobloxApi } from './roblox/api';
import type { RobloxHttpOptions } from './roblox/http';
import { createMemberSync } from './sync/members';
import type { SyncStats } from './sync/stats';
import { createSyncRuns, type SyncRuns } from './sync/runs';
import { startWebServer, type WebServer } from './web/server';

export interface BotOptions {
  log: Logger;
  clock?: Clock;
  /** Tests shorten Roblox timeouts and backoff, and the rate window. */
  robloxHttp?: Partial<RobloxHttpOptions>;
  robloxWindowMs?: number;
  robloxKeyRetryBaseMs?: number;
  robloxKeyRetryMaxMs?: number;
  /** Benchmarks scale Discord's global rate with time, as they do Roblox's window. */
  discordRest?: Partial<RESTOptions>;
  /** Benchmarks: collects the sync's database and planner time. */
  stats?: SyncStats;
}

export interface Bot {
  client: Client;
  db: Database;
  runs: SyncRuns;
  /** The HTTP server's port (HTTP_PORT 0 picks a free one). */
  httpPort?: number;
  stop(): Promise<void>;
}

export class StartupError extends Error {}

const INTENT_HELP =
  'Discord refused the Server Members intent. Enable it: Discord Developer Portal → your application → Bot → ' +
  'Privileged Gateway Intents → turn on "Server Members Intent" → Save, then start gatepass again.';

const TOKEN_HELP = 'Discord rejected DISCORD_TOKEN. Copy it again: Discord Developer Portal → your application → Bot → Reset Token.';

export async function startBot(config: Config, options: BotOptions): Promise<Bot> {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  await migrateDatabase(config.databaseUrl);
  const db = openDatabase(config.databaseUrl);

  // Queue depth is asked of the runs, which exist only further down; a scrape comes later anyway.
  let runsForMetrics: SyncRuns | undefined;
  const metrics = createMetrics(async () => (await runsForMetrics?.queueDepth()) ?? 0);
  const roblox = createRobloxApi({
    apiBaseUrl: config.robloxApiBaseUrl,
    usersBaseUrl: config.robloxUsersApiBaseUrl,
    apiKey: config.robloxApiKey,
    inventoryPerMinute: config.robloxInventoryRateLimit,
    usersPerMinute: config.robloxUsersRateLimit,
    usernamesPerMinute: config.robloxUsernamesRateLimit,
    http: { clock, observe: (path, status) => metrics.robloxRequests.inc({ endpoint: robloxEndpoint(path), status }), ...options.robloxHttp },
    windowMs: options.robloxWindowMs,
    keyRetryBaseMs: options.robloxKeyRetryBaseMs,
    keyRetryMaxMs: options.robloxKeyRetryMaxMs,
    onKeyState: (state, detail) => {
      if (state === 'rejected') {
        log.error({ detail }, 'Roblox rejected ROBLOX_API_KEY: ownership checks are paused and every role is kept; retrying with backoff. Check the key in Creator Hub → Open Cloud → API Keys (expired, revoked, or IP not allowed?)');
        void serverLog.postEverywhere(["⚠️ Roblox rejected the bot's API key: ownership checks are paused and every role is kept as it is. The bot's operator must renew the key."]);
      } else {
        log.info('Roblox accepts ROBLOX_API_KEY again; ownership checks resumed');
        void serverLog.postEverywhere(['✅ Roblox accepts the API key again; ownership checks resumed.']);
      }
    },
  });
  // Server Members is needed for join-time sync and for /sync to list a server's members.
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    partials: [Partials.GuildMember],
    rest: { ...options.discordRest, api: config.discordApiBaseUrl },
    // Members and users are read when needed; caching every one would grow with the population.
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
    }),
    allowedMentions: { parse: [] },
  });
  const discord = discordSide(client);
  const serverLog = createServerLog(client, db, log);
  const oauth = config.oauth && {
    settings: { client: { clientId: config.oauth.clientId, clientSecret: config.oauth.clientSecret, redirectUri: `${config.oauth.publicUrl}/oauth/callback` }, tokenKey: config.oauth.tokenKey },
    discordOAuth: { clientId: config.discordApplicationId, clientSecret: config.oauth.discordClientSecret, apiBaseUrl: config.discordApiBaseUrl, redirectUri: `${config.oauth.publicUrl}/oauth/discord` },
    publicUrl: config.oauth.publicUrl,
  };
  const grants = oauth && createGrants({ db, roblox, log, clock, settings: oauth.settings, windowMs: options.robloxWindowMs });
  const sync = createMemberSync({ db, roblox, discord, log, clock, grants, metrics, stats: options.stats });
  const runs = createSyncRuns({ db, discord, log, clock, sync, metrics, serverLog, stats: options.stats });
  runsForMetrics = runs;
  const signIns = oauth && grants && createSignIns({ db, roblox, clock, log, grants, sync, serverLog, ...oauth });
  const services: Services = { db, roblox, discord, sync, runs, log, clock, serverLog, grants, signIns };

  const route = interactionRouter(COMMANDS, services);
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  client.on(Events.GuildMemberAdd, (member) => {
    void (async () => {
      if (!(await db.link.findUnique({ where: { discordUserId: member.id } }))) return;
      const result = await sync.one(member.id, { priority: true });
      log.info({ guildId: member.guild.id, discordUserId: member.id, added: result.servers.find((s) => s.guildId === member.guild.id)?.added }, 'synced a linked member on join');
    })().catch((error) => log.error({ err: error, discordUserId: member.id }, 'join-time sync failed'));
  });
  // A deleted role's binds can never be satisfied again: they go, and the staff are told.
  client.on(Events.GuildRoleDelete, (role) => {
    void (async () => {
      const removed = await db.bind.deleteMany({ where: { guildId: role.guild.id, roleId: role.id } });
      if (removed.count === 0) return;
      log.warn({ guildId: role.guild.id, roleId: role.id, binds: removed.count }, 'a bound role was deleted; its binds were removed');
      await serverLog.post(role.guild.id, [`⚠️ The bound role @${role.name} was deleted, so its ${removed.count} bind(s) were removed.`]);
    })().catch((error: unknown) => log.error({ err: error, roleId: role.id }, 'could not remove the binds of a deleted role'));
  });
  client.on(Events.Error, (error) => log.error({ err: error }, 'discord client error'));
  client.rest.on('rateLimited', (info) => log.debug({ route: info.route, retryAfter: info.timeToReset, scope: info.scope }, 'discord rate limit'));

  let web: WebServer | undefined;
  const stopAll = async () => {
    await web?.close();
    await runs.stop();
    await client.destroy();
    await db.$disconnect();
  };

  try {
    if (config.httpPort !== undefined) {
      const secureCookies = config.oauth?.publicUrl.startsWith('https:') ?? false;
      web = await startWebServer(config.httpPort, { log, signIns, secureCookies, health: healthCheck(client, db, clock), metrics: metrics.registry }).catch((error: unknown) => {
        throw new StartupError(`HTTP_PORT ${config.httpPort} could not be opened: ${(error as Error).message}`);
      });
      log.info({ port: web.port, signIn: signIns !== undefined }, 'HTTP server listening');
    }
    await login(client, config.discordToken);
    log.info({ user: client.user?.tag, servers: client.guilds.cache.size }, 'connected to Discord');
    if (await ensureCommandsRegistered(client.application!, COMMANDS.map((c) => c.definition))) log.info('slash commands registered');
  } catch (error) {
    await stopAll();
    throw error;
  }

  const tick = async (trigger: string) => {
    await db.verification.deleteMany({ where: { expiresAt: { lt: new Date(clock.now()) } } });
    await runs.runAll(trigger);
  };
  const task = schedule(config.syncCron, () => tick('schedule').catch((error) => log.error({ err: error }, 'scheduled sync failed')), { noOverlap: true, name: 'sync' });
  // A run cut short by a restart is finished now rather than at the next tick.
  if (await db.syncRun.findFirst({ where: { finishedAt: null } })) void tick('resume').catch((error) => log.error({ err: error }, 'resumed sync failed'));

  return {
    client,
    db,
    runs,
    httpPort: web?.port,
    async stop() {
      await task.stop();
      await stopAll();
    },
  };
}

/** Logs in and waits until the client is ready; a refused intent or token becomes a StartupError. */
function login(client: Client, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDisconnect = (event: { code: number }) => {
      if (event.code === GatewayCloseCodes.DisallowedIntents) reject(new StartupError(INTENT_HELP));
      else if (event.code === GatewayCloseCodes.AuthenticationFailed) reject(new StartupError(TOKEN_HELP));
      else reject(new StartupError(`Discord closed the connection for good (code ${event.code}).`));
    };
    client.once(Events.ShardDisconnect, onDisconnect);
    client.once(Events.ClientReady, () => {
      client.off(Events.ShardDisconnect, onDisconnect);
      resolve();
    });
    client.login(token).catch((error: unknown) => {
      const { status, code } = error as { status?: number; code?: unknown };
      reject(status === 401 || code === 'TokenInvalid' ? new StartupError(TOKEN_HELP) : error);
    });
  });
}
