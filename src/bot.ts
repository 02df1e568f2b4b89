// The one place where everything is built and connected. main.ts calls it with the validated
// configuration; the end-to-end tests call it with fakes' addresses and a temporary database.

import type { RESTOptions } from '@discordjs/rest';
import { Client, Events, GatewayCloseCodes, GatewayIntentBits, Options, Partials } from 'discord.js';
import { schedule } from 'node-cron';
import { COMMANDS } from '../commands/index';
import { loadApprovals } from './approvals';
import { type Clock, systemClock } from './clock';
import type { Services } from './commands';
import type { Config } from './config';
import { type Database, migrateDatabase, openDatabase } from './database/client';
import { createServerLog } from './discord/serverlog';
import { discordSide } from './discord/servers';
import { interactionRouter } from './interactions';
import { healthCheck } from './health';
import { type ItemNames, startItemNames } from './itemnames';
import { createLinkChanges, type LinkChanges } from './linkchanges';
import type { Logger } from './log';
import { createMetrics, robloxEndpoint } from './metrics';
import { createPriorityShare } from './priorityshare';
import { cannotReach, networkFailure, unreachableHosts } from './reachability';
import { createGrants } from './oauth/grants';
import { createInFlight } from './inflight';
import { createSignIns, SIGN_IN_CHANNEL } from './oauth/signin';
import { ensureCommandsRegistered } from './registration';
import { createRobloxApi } from './roblox/api';
import type { RobloxHttpOptions } from './roblox/http';
import { findOpenRun } from './database/syncruns';
import { handleEvents } from './events';
import { createHousekeeping } from './housekeeping';
import { createMemberIndex } from './memberindex';
import { createUnverifiedPass } from './unverifiedrole';
import { queueDepth } from './sync/cycle';
import { createMemberSync } from './sync/members';
import type { SyncStats } from './sync/stats';
import { createSyncRuns, type SyncRuns } from './sync/runs';
import { connectQueueMode, type QueueMode } from './queue/mode';
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
  /** Pause between pages of member-list reconciliation; benchmarks scale it with time. */
  reconcilePageMs?: number;
  /** Pause between pages of the unverified-role pass; tests shorten it. */
  unverifiedPageMs?: number;
  /** Priority re-checks per server per hour (/sync, /update of someone else); tests lower it. */
  priorityShare?: number;
  /**
   * The gateway shards this process holds, of how many. Shard processes under the manager need not
   * say: discord.js reads SHARDS and SHARD_COUNT from the environment the manager gives them. Tests
   * set it to run one shard of several in-process.
   */
  shards?: { ids: number[]; count: number };
  /** The manager's REST proxy (src/manager.ts): every process's Discord requests share its one queue. */
  restProxyUrl?: string;
  /** Members per batch of a cycle (100); the fault suite spreads its few members over several queued batches. */
  batchSize?: number;
}

/** One page (1,000 members) of reconciliation every 100 ms: a fifth of Discord's 50 requests a second. */
const RECONCILE_PAGE_MS = 100;

/**
 * One page (100 members) of the unverified-role pass a second: at most a gateway read and the role
 * writes of its unlinked members, leaving Discord's REST budget to syncs and commands.
 */
const UNVERIFIED_PAGE_MS = 1_000;

/**
 * REST through the manager's proxy, whose own queue retries failures and waits out rate limits: a
 * shard process retrying a request still queued there would send it twice, so it waits instead
 * (the proxy's four 15-second attempts, and a rate-limit wait).
 */
const viaProxy = (api: string): Partial<RESTOptions> => ({ api, retries: 0, timeout: 120_000 });

export interface Bot {
  client: Client;
  db: Database;
  runs: SyncRuns;
  /** Every change of a link goes through here (the fault suite moves accounts with it, as a proof would). */
  links: LinkChanges;
  /** Settles once the membership index's pending reconciliations are done. */
  indexReady(): Promise<void>;
  /** Settles once no unverified-role pass is queued or running. */
  unverifiedReady(): Promise<void>;
  /** Settles once the work of the Discord events and commands received so far (a join's sync) is done. */
  eventsSettled(): Promise<void>;
  itemNames: ItemNames;
  /** The HTTP server's port (HTTP_PORT 0 picks a free one). */
  httpPort?: number;
  /** Queue mode's handles, when REDIS_URL is set. */
  queue?: QueueMode;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  /** `transient`: nothing to fix in the configuration (Discord could not be reached); a later start may succeed. */
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

/** Redis unreachable at start: its one line (src/queue/redis.ts) is the start-up error. */
function startupError(error: unknown): never {
  throw new StartupError((error as Error).message);
}

const INTENT_HELP =
  'Discord refused the Server Members intent. Enable it: Discord Developer Portal → your application → Bot → ' +
  'Privileged Gateway Intents → turn on "Server Members Intent" → Save, then start gatepass again.';

const SHARDING_HELP =
  'Discord requires this bot to run on more shards (gateway close 4011, sharding required): set SHARD_COUNT=auto to use Discord\'s recommendation (several processes need a PostgreSQL DATABASE_URL).';

const INVALID_SHARD_HELP = 'Discord refused the shard this process identified as (gateway close 4010, invalid shard): check SHARD_COUNT.';

const TOKEN_HELP = 'Discord rejected DISCORD_TOKEN. Copy it again: Discord Developer Portal → your application → Bot → Reset Token.';

export async function startBot(config: Config, options: BotOptions): Promise<Bot> {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const queueMode = config.redisUrl ? await connectQueueMode(config.redisUrl, config.robloxApiKey, clock, log).catch(startupError) : undefined;
  await migrateDatabase(config.databaseUrl);
  const db = openDatabase(config.databaseUrl);

  const metrics = createMetrics(() => queueDepth(db));
  const roblox = createRobloxApi({
    apiBaseUrl: config.robloxApiBaseUrl,
    usersBaseUrl: config.robloxUsersApiBaseUrl,
    badgesBaseUrl: config.robloxBadgesApiBaseUrl,
    economyBaseUrl: config.robloxEconomyApiBaseUrl,
    apiKey: config.robloxApiKey,
    inventoryPerMinute: config.robloxInventoryRateLimit,
    usersPerMinute: config.robloxUsersRateLimit,
    usernamesPerMinute: config.robloxUsernamesRateLimit,
    groupsPerMinute: config.robloxGroupsRateLimit,
    http: { clock, observe: (path, status) => metrics.robloxRequests.inc({ endpoint: robloxEndpoint(path), status }), ...options.robloxHttp },
    windowMs: options.robloxWindowMs,
    keyRetryBaseMs: options.robloxKeyRetryBaseMs,
    keyRetryMaxMs: options.robloxKeyRetryMaxMs,
    makeBudget: queueMode?.makeBudget,
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
  // Server Members is needed for the membership index: joins, leaves and servers' member lists.
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    partials: [Partials.GuildMember],
    rest: { ...options.discordRest, ...(options.restProxyUrl ? viaProxy(options.restProxyUrl) : { api: config.discordApiBaseUrl }) },
    ...(options.shards ? { shards: options.shards.ids, shardCount: options.shards.count } : {}),
    // Shard processes of several take turns in Redis to identify, wherever they run (src/queue/identify.ts).
    ...(queueMode ? { ws: { buildIdentifyThrottler: queueMode.identifyThrottler(config.discordApplicationId) } } : {}),
    // Members and users are read when needed; caching every one would grow with the population.
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
    }),
    allowedMentions: { parse: [] },
  });
  const approvals = await loadApprovals(db);
  const discord = discordSide(client, approvals, log);
  const serverLog = createServerLog(client, db, log);
  const oauth = config.oauth && {
    settings: { client: { clientId: config.oauth.clientId, clientSecret: config.oauth.clientSecret, redirectUri: `${config.oauth.publicUrl}/oauth/callback` }, tokenKey: config.oauth.tokenKey },
    discordOAuth: { clientId: config.discordApplicationId, clientSecret: config.oauth.discordClientSecret, apiBaseUrl: config.discordApiBaseUrl, redirectUri: `${config.oauth.publicUrl}/oauth/discord` },
    publicUrl: config.oauth.publicUrl,
  };
  const grants = oauth && createGrants({ db, roblox, log, clock, settings: oauth.settings, windowMs: options.robloxWindowMs });
  const localSync = createMemberSync({ db, roblox, discord, log, clock, grants, metrics, stats: options.stats, lock: queueMode?.memberLock });
  // Link changes take the same member locks as checks (in Redis in queue mode), wherever a check runs.
  const links = createLinkChanges({ db, sync: localSync });
  const index = createMemberIndex({ db, discord, log, clock, pageIntervalMs: options.reconcilePageMs ?? RECONCILE_PAGE_MS });
  const housekeeping = createHousekeeping({ db, discord, index, serverLog, log, clock });
  const runDeps = { db, log, clock, sync: localSync, metrics, serverLog, indexReady: index.settled, stats: options.stats, batchSize: options.batchSize };
  // Queue mode: the cycle and waiting members' checks go through the shared queue; otherwise in this process.
  const queued = queueMode?.open(runDeps, config.syncCron);
  const runs = queued?.runs ?? createSyncRuns(runDeps);
  const sync = queued?.sync ?? localSync;
  const unverifiedPass = createUnverifiedPass({ db, sync, log, indexReady: index.settled, pageIntervalMs: options.unverifiedPageMs ?? UNVERIFIED_PAGE_MS });
  // Queue mode: any process may finish a sign-in whose /verify reply another process holds.
  const relay = oauth && queueMode ? await queueMode.channel(SIGN_IN_CHANNEL).catch(startupError) : undefined;
  const signIns = oauth && grants && createSignIns({ db, roblox, clock, log, grants, sync, links, serverLog, ...oauth, relay });
  const itemNames = startItemNames({ db, roblox, log });
  // A tenth of an hour of the key's inventory budget per server, counted in members.
  const share = createPriorityShare(options.priorityShare ?? config.robloxInventoryRateLimit * 6, clock);
  const services: Services = { db, roblox, discord, approvals, share, itemNames, sync, links, runs, log, clock, serverLog, grants, signIns, unverifiedPass };

  const route = interactionRouter(COMMANDS, services);
  // What events and commands begin is tracked: stop() lets it finish while the client can still answer and write.
  const events = createInFlight();
  client.on(Events.InteractionCreate, (interaction) => {
    if (!events.stopping()) void events.track(route(interaction));
  });
  handleEvents(client, { db, log, sync, index, serverLog, housekeeping, inFlight: events });
  client.on(Events.Error, (error) => log.error({ err: error }, 'discord client error'));
  client.rest.on('rateLimited', (info) => log.debug({ route: info.route, retryAfter: info.timeToReset, scope: info.scope }, 'discord rate limit'));

  let web: WebServer | undefined;
  const stopAll = async () => {
    itemNames.stop();
    await web?.close();
    if (events.size() > 0) log.info({ underWay: events.size() }, 'stopping: the syncs and commands that events began finish first');
    await events.stop();
    await index.stop();
    await unverifiedPass.stop();
    await runs.stop();
    await queueMode?.stop();
    // Checks begun elsewhere (a moved account's previous holder, a sign-in) too: no role is written after stop().
    await localSync.stop();
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
    await login(client, config.discordToken, config.discordApiBaseUrl);
    log.info({ user: client.user?.tag, servers: client.guilds.cache.size, shards: client.options.shards, shardCount: client.options.shardCount }, 'connected to Discord');
    // Not fatal: until Roblox answers, every check is "unknown" and no role changes.
    const robloxProblem = await unreachableHosts('Roblox', [config.robloxApiBaseUrl, config.robloxUsersApiBaseUrl], 'ROBLOX_API_BASE_URL / ROBLOX_USERS_API_BASE_URL');
    if (robloxProblem) log.warn(`${robloxProblem} Until it can be reached, ownership is unknown and no role is changed.`);
    if (await ensureCommandsRegistered(client.application!, COMMANDS.map((c) => c.definition))) log.info('slash commands registered');
    await housekeeping.atStart();
    // Members who joined while the bot was offline: nothing else gives them the unverified role.
    await unverifiedPass.startWhereSet(discord.serverIds());
    await queued?.work();
  } catch (error) {
    await stopAll();
    throw error;
  }

  // A tick arriving mid-cycle is not dropped: runAll queues the next cycle to start right after.
  const tick = (trigger: string) => {
    housekeeping.onTick().catch((error: unknown) => log.error({ err: error }, 'housekeeping failed'));
    // Queue mode: BullMQ's job scheduler ticks the cycle, once for all processes.
    if (!queued || trigger !== 'schedule') runs.runAll(trigger).catch((error: unknown) => log.error({ err: error }, `${trigger} sync failed`));
  };
  const task = schedule(config.syncCron, () => tick('schedule'), { name: 'sync' });
  // A run cut short by a restart is finished now rather than at the next tick.
  if (await findOpenRun(db)) tick('resume');

  return {
    client,
    db,
    runs,
    links,
    indexReady: index.settled,
    unverifiedReady: unverifiedPass.settled,
    eventsSettled: events.settled,
    itemNames,
    httpPort: web?.port,
    queue: queueMode,
    async stop() {
      await task.stop();
      await stopAll();
    },
  };
}

/** Logs in and waits until the client is ready; a refused intent or token becomes a StartupError. */
function login(client: Client, token: string, apiUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDisconnect = (event: { code: number }) => {
      if (event.code === GatewayCloseCodes.DisallowedIntents) reject(new StartupError(INTENT_HELP));
      else if (event.code === GatewayCloseCodes.AuthenticationFailed) reject(new StartupError(TOKEN_HELP));
      else if (event.code === GatewayCloseCodes.ShardingRequired) reject(new StartupError(SHARDING_HELP));
      else if (event.code === GatewayCloseCodes.InvalidShard) reject(new StartupError(INVALID_SHARD_HELP));
      else reject(new StartupError(`Discord closed the connection for good (code ${event.code}).`));
    };
    client.once(Events.ShardDisconnect, onDisconnect);
    client.once(Events.ClientReady, () => {
      client.off(Events.ShardDisconnect, onDisconnect);
      resolve();
    });
    client.login(token).catch((error: unknown) => {
      const { status, code } = error as { status?: number; code?: unknown };
      const network = networkFailure(error);
      if (network) reject(new StartupError(cannotReach('Discord', apiUrl, network, 'DISCORD_API_BASE_URL'), true));
      else reject(status === 401 || code === 'TokenInvalid' ? new StartupError(TOKEN_HELP) : error);
    });
  });
}
