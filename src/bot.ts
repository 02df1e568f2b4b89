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
import { discordSide } from './discord/servers';
import { interactionRouter } from './interactions';
import type { Logger } from './log';
import { createGrants } from './oauth/grants';
import { createSignIns } from './oauth/signin';
import { ensureCommandsRegistered } from './registration';
import { createRobloxApi } from './roblox/api';
import type { RobloxHttpOptions } from './roblox/http';
import { createMemberSync, type SyncStats } from './sync/members';
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
  /** Benchmarks: hears every database query's duration, and collects planner time. */
  onQuery?: (ms: number) => void;
  stats?: SyncStats;
}

export interface Bot {
  client: Client;
  db: Database;
  runs: SyncRuns;
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
  const db = openDatabase(config.databaseUrl, options.onQuery);

  const roblox = createRobloxApi({
    apiBaseUrl: config.robloxApiBaseUrl,
    usersBaseUrl: config.robloxUsersApiBaseUrl,
    apiKey: config.robloxApiKey,
    inventoryPerMinute: config.robloxInventoryRateLimit,
    http: { clock, ...options.robloxHttp },
    windowMs: options.robloxWindowMs,
    keyRetryBaseMs: options.robloxKeyRetryBaseMs,
    keyRetryMaxMs: options.robloxKeyRetryMaxMs,
    onKeyState: (state, detail) =>
      state === 'rejected'
        ? log.error({ detail }, 'Roblox rejected ROBLOX_API_KEY: ownership checks are paused and every role is kept; retrying with backoff. Check the key in Creator Hub → Open Cloud → API Keys (expired, revoked, or IP not allowed?)')
        : log.info('Roblox accepts ROBLOX_API_KEY again; ownership checks resumed'),
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
  const oauth = config.oauth && {
    settings: { client: { clientId: config.oauth.clientId, clientSecret: config.oauth.clientSecret, redirectUri: `${config.oauth.publicUrl}/oauth/callback` }, tokenKey: config.oauth.tokenKey },
    publicUrl: config.oauth.publicUrl,
  };
  const grants = oauth && createGrants({ db, roblox, log, clock, settings: oauth.settings, windowMs: options.robloxWindowMs });
  const sync = createMemberSync({ db, roblox, discord, log, clock, grants, stats: options.stats });
  const runs = createSyncRuns({ db, discord, log, clock, sync });
  const signIns = oauth && grants && createSignIns({ db, roblox, clock, log, grants, sync, ...oauth });
  const services: Services = { db, roblox, discord, sync, runs, log, clock, grants, signIns };

  const route = interactionRouter(COMMANDS, services);
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  client.on(Events.GuildMemberAdd, (member) => {
    void (async () => {
      if (!(await db.link.findUnique({ where: { discordUserId: member.id } }))) return;
      const result = await sync.one(member.id, { priority: true });
      log.info({ guildId: member.guild.id, discordUserId: member.id, added: result.servers.find((s) => s.guildId === member.guild.id)?.added }, 'synced a linked member on join');
    })().catch((error) => log.error({ err: error, discordUserId: member.id }, 'join-time sync failed'));
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
      web = await startWebServer(config.httpPort, { log, signIns, secureCookies: config.oauth?.publicUrl.startsWith('https:') ?? false }).catch((error: unknown) => {
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
