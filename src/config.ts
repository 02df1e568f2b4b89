// The environment, validated once at start-up into a typed object. Secrets are never echoed.

import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { DEFAULT_DATABASE_URL, databaseUrlProblem } from './database/url';
import { DEFAULT_USERNAMES_PER_MINUTE, DOCUMENTED_GROUPS_PER_MINUTE, DOCUMENTED_USERS_PER_MINUTE } from './roblox/api';
import { parseTokenKey } from './oauth/sealing';

export interface Config {
  discordToken: string;
  discordApplicationId: string;
  robloxApiKey: string;
  databaseUrl: string;
  syncCron: string;
  robloxInventoryRateLimit: number;
  /** Get User requests per minute (Roblox documents 1000 per key owner). */
  robloxUsersRateLimit: number;
  /** Username-lookup requests per minute (undocumented by Roblox; each carries up to 100 names). */
  robloxUsernamesRateLimit: number;
  /** Group membership reads per minute (Roblox documents 300 per key owner, apart from inventory). */
  robloxGroupsRateLimit: number;
  discordApiBaseUrl: string;
  robloxApiBaseUrl: string;
  robloxUsersApiBaseUrl: string;
  /** badges.roblox.com: badge names for binds. */
  robloxBadgesApiBaseUrl: string;
  /** economy.roblox.com: asset names for binds. */
  robloxEconomyApiBaseUrl: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Unset: pretty on a terminal, JSON otherwise (a service manager, a pipe). */
  logFormat?: 'json' | 'pretty';
  /** The bot's own HTTP server (sign-in pages, health and metrics); none when HTTP_PORT is unset. */
  httpPort?: number;
  /**
   * Gateway shards, each run in its own process under a small manager (src/manager.ts): a number, or
   * 'auto' for Discord's recommendation. Unset means one process holding the only shard, as always.
   */
  shardCount?: number | 'auto';
  /** Sign in with Roblox, when configured. */
  oauth?: { clientId: string; clientSecret: string; discordClientSecret: string; publicUrl: string; tokenKey: Buffer };
  /** Queue mode: the cycle, priority checks, the Roblox budget and member locks live in this Redis. */
  redisUrl?: string;
}

const SNOWFLAKE = /^[1-9]\d{16,19}$/;

/** A bot token's first part is the bot user's id in base64; for bots that id is the application's. */
export function applicationIdFromToken(token: string): string | undefined {
  const first = token.split('.')[0] ?? '';
  const decoded = Buffer.from(first, 'base64').toString('utf8');
  return SNOWFLAKE.test(decoded) ? decoded : undefined;
}

// Empty values (KEY= in .env) mean "not set", so defaults apply.
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const baseUrl = (fallback: string) =>
  optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default(fallback));

/**
 * redis://[user:password@]host[:port][/db] or rediss:// for TLS. Each problem gets its own message,
 * and none repeats the value: it may carry a password.
 */
export function redisUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as redis://localhost:6379';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `must start with redis:// or rediss:// (TLS), not ${url.protocol}//`;
  if (url.hostname === '') return 'names no host (redis://host:6379)';
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) return 'has a path that is not a database number (redis://host:6379/0)';
  if (url.search !== '' || url.hash !== '') return 'must not carry a query or fragment';
  return undefined;
}

/**
 * The REST proxy's address, which the proxy listens on and every shard process sends through: plain
 * http on the loopback interface, a host and a port. The proxy has no authentication of its own
 * and spends the bot's Discord rate limits for whoever reaches it, so it must never listen where
 * others can.
 */
export function restProxyUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as http://127.0.0.1:8950';
  }
  if (url.protocol !== 'http:') return `must start with http:// (it never leaves this machine), not ${url.protocol}//`;
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') return 'must be on the loopback interface (127.0.0.1 or [::1]): the proxy has no authentication of its own';
  if (url.port === '') return 'must name a port (http://127.0.0.1:8950)';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return 'must be only a host and a port (http://127.0.0.1:8950)';
  return undefined;
}

/** Requests per minute: a whole number from 1 up. */
const perMinute = (fallback: number) =>
  optional(z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'is implausibly large').default(fallback));

/** Discord requires a shard per 2,500 servers; a manager forking more processes than this is a typo. */
const MAX_SHARDS = 1024;

/** Whether SHARD_COUNT asks for more than one process. */
export const multiProcess = (shardCount: number | 'auto' | undefined) => shardCount === 'auto' || (shardCount ?? 1) > 1;

/** SHARD_COUNT's value; an invalid one is reported and goes no further (no SQLite refusal for a typo). */
function shardCount(value: string, ctx: z.core.$RefinementCtx<string>): number | 'auto' {
  if (value === 'auto') return 'auto';
  const problem = !/^\d+$/.test(value) ? 'must be auto or a whole number of shards' : Number(value) < 1 ? 'must be at least 1' : Number(value) > MAX_SHARDS ? `is implausibly large (at most ${MAX_SHARDS})` : undefined;
  if (!problem) return Number(value);
  ctx.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
}

const schema = z
  .object({
    DISCORD_TOKEN: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'is required')
      .refine((t) => t.split('.').length === 3 && !/\s/.test(t), 'does not look like a bot token (three parts separated by dots)'),
    DISCORD_APPLICATION_ID: optional(z.string().regex(SNOWFLAKE, 'must be a numeric Discord id').optional()),
    ROBLOX_API_KEY: z.string({ error: 'is required' }).trim().min(1, 'is required').refine((k) => !/\s/.test(k), 'must not contain spaces'),
    DATABASE_URL: optional(
      z
        .string()
        .trim()
        .superRefine((url, ctx) => {
          const problem = databaseUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .default(DEFAULT_DATABASE_URL),
    ),
    SYNC_CRON: optional(z.string().refine((c) => validCron(c), 'is not a valid cron expression (e.g. "*/30 * * * *")').default('*/30 * * * *')),
    ROBLOX_INVENTORY_RATE_LIMIT: perMinute(100),
    ROBLOX_USERS_RATE_LIMIT: perMinute(DOCUMENTED_USERS_PER_MINUTE),
    ROBLOX_USERNAMES_RATE_LIMIT: perMinute(DEFAULT_USERNAMES_PER_MINUTE),
    ROBLOX_GROUPS_RATE_LIMIT: perMinute(DOCUMENTED_GROUPS_PER_MINUTE),
    DISCORD_API_BASE_URL: baseUrl('https://discord.com/api'),
    ROBLOX_API_BASE_URL: baseUrl('https://apis.roblox.com'),
    ROBLOX_USERS_API_BASE_URL: baseUrl('https://users.roblox.com'),
    ROBLOX_BADGES_API_BASE_URL: baseUrl('https://badges.roblox.com'),
    ROBLOX_ECONOMY_API_BASE_URL: baseUrl('https://economy.roblox.com'),
    LOG_FORMAT: optional(z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).optional()),
    HTTP_PORT: optional(z.coerce.number({ error: 'must be a port number' }).int('must be a port number').min(0, 'must be a port number').max(65_535, 'must be a port number').optional()),
    PUBLIC_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://gatepass.example.com' }).optional()),
    ROBLOX_OAUTH_CLIENT_ID: optional(z.string().trim().regex(/^\d{1,25}$/, 'must be the numeric client id from Creator Hub → OAuth 2.0 Apps').optional()),
    DISCORD_CLIENT_SECRET: optional(z.string().trim().min(1).refine((k) => !/\s/.test(k), 'must not contain spaces').optional()),
    ROBLOX_OAUTH_CLIENT_SECRET: optional(z.string().trim().min(1).refine((k) => !/\s/.test(k), 'must not contain spaces').optional()),
    TOKEN_ENCRYPTION_KEY: optional(z.string().refine((k) => parseTokenKey(k) !== undefined, 'must be 32 random bytes as 64 hex characters (openssl rand -hex 32)').optional()),
    SHARD_COUNT: optional(z.string({ error: 'must be auto or a whole number of shards' }).trim().transform(shardCount).optional()),
    SHARD_ID: optional(z.string().trim().regex(/^\d+$/, 'must be a whole number: the shard this process holds, from 0 to SHARD_COUNT − 1').transform(Number).optional()),
    REST_PROXY_URL: optional(z.string().trim().superRefine((v, ctx) => {
      const problem = restProxyUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }).optional()),
    REDIS_URL: optional(z.string().trim().superRefine((v, ctx) => {
      const problem = redisUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }).optional()),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info')),
  })
  // What every process of the bot checks, whichever way it runs.
  .superRefine((env, ctx) => {
    if (!env.DISCORD_APPLICATION_ID && !applicationIdFromToken(env.DISCORD_TOKEN)) {
      ctx.addIssue({ code: 'custom', path: ['DISCORD_APPLICATION_ID'], message: 'is required: it could not be derived from DISCORD_TOKEN' });
    }
    // Every shard process would open the same SQLite file: SQLite is for one process only.
    if (multiProcess(env.SHARD_COUNT) && env.DATABASE_URL.startsWith('file:')) {
      ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'above 1 runs a process per shard, and processes cannot share a SQLite database (DATABASE_URL file:…): set a PostgreSQL DATABASE_URL, or unset SHARD_COUNT to run one process' });
    }
    // Without the queue, every shard process would run the whole cycle and spend the Roblox budget again.
    if (multiProcess(env.SHARD_COUNT) && !env.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'above 1 runs a process per shard, and they share the work through a queue: set REDIS_URL (see README, Many processes)' });
    }
    // OAuth is all or nothing: half a configuration would fail only when a member tries to sign in.
    if (env.ROBLOX_OAUTH_CLIENT_ID || env.ROBLOX_OAUTH_CLIENT_SECRET) {
      for (const name of ['ROBLOX_OAUTH_CLIENT_ID', 'ROBLOX_OAUTH_CLIENT_SECRET', 'DISCORD_CLIENT_SECRET', 'PUBLIC_URL', 'HTTP_PORT', 'TOKEN_ENCRYPTION_KEY'] as const) {
        if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: 'is required for Sign in with Roblox' });
      }
    }
  });

type Env = z.output<typeof schema>;
type Context = z.core.$RefinementCtx<Env>;

/** `npm start` decides the shards itself: a SHARD_ID meant for one shard's process would be ignored. */
function startRules(env: Env, ctx: Context): void {
  if (env.SHARD_ID !== undefined) ctx.addIssue({ code: 'custom', path: ['SHARD_ID'], message: 'is only for a shard process run on its own (node dist/shard.mjs, as gatepass@.service runs it); npm start runs every shard itself: unset SHARD_ID' });
}

/**
 * A shard process run on its own (dist/shard.mjs, one per systemd unit): no manager tells it its
 * shard, the count, or where the REST proxy is, so each must be set, and agree with the others.
 */
function shardRules(env: Env, ctx: Context): void {
  const count = env.SHARD_COUNT;
  if (count === undefined) ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'is required by a shard process: the number of shards, the same for every shard process' });
  // Each process would ask Discord on its own, at a different moment: two answers could differ, and
  // Discord routes each server by the count, so a server would go to no process or to two.
  if (count === 'auto') ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: "cannot be auto for a shard process run on its own: each would ask Discord separately and they could disagree. Set the number (Discord's recommendation: see README, Run it under systemd)" });
  if (env.SHARD_ID === undefined) ctx.addIssue({ code: 'custom', path: ['SHARD_ID'], message: 'is required by a shard process: the shard it holds, from 0 to SHARD_COUNT − 1 (gatepass@N.service sets it to N)' });
  else if (typeof count === 'number' && env.SHARD_ID >= count) ctx.addIssue({ code: 'custom', path: ['SHARD_ID'], message: `must be below SHARD_COUNT (${count}): shards are numbered from 0 to ${count - 1}` });
  if (!env.REST_PROXY_URL) ctx.addIssue({ code: 'custom', path: ['REST_PROXY_URL'], message: 'is required by a shard process: where the REST proxy (node dist/proxy.mjs) listens, e.g. http://127.0.0.1:8950' });
}

const startSchema = schema.superRefine(startRules);
const shardSchema = schema.superRefine(shardRules);
const { REST_PROXY_URL, DISCORD_API_BASE_URL, LOG_LEVEL, LOG_FORMAT } = schema.shape;
const proxySchema = z
  .object({ REST_PROXY_URL, DISCORD_API_BASE_URL, LOG_LEVEL, LOG_FORMAT })
  .superRefine((env, ctx) => {
    if (!env.REST_PROXY_URL) ctx.addIssue({ code: 'custom', path: ['REST_PROXY_URL'], message: 'is required by the REST proxy: where it listens, e.g. http://127.0.0.1:8950 (the shard processes read the same value)' });
  });

export type Loaded<T> = { ok: true; config: T } | { ok: false; message: string };
export type ConfigResult = Loaded<Config>;

/** Validates `env` against `schema`; every problem is named on one line, and a value is never echoed (it may be a secret). */
function load<S extends z.ZodType, T>(schema: S, env: NodeJS.ProcessEnv, build: (e: z.output<S>) => { ok: true; config: T }): Loaded<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0] ?? 'environment')} ${issue.message}`);
    return { ok: false, message: `Configuration error: ${[...new Set(problems)].join('; ')}` };
  }
  return build(parsed.data);
}

/** `npm start`: one process, or with SHARD_COUNT the manager and its shard processes. */
export function loadConfig(env: NodeJS.ProcessEnv): ConfigResult {
  return load(startSchema, env, configured);
}

/** A shard process run on its own (dist/shard.mjs): the whole bot, for one shard of SHARD_COUNT. */
export interface ShardConfig extends Config {
  shardId: number;
  shardCount: number;
  /** The REST proxy's origin (REST_PROXY_URL), e.g. http://127.0.0.1:8950 */
  restProxyUrl: string;
}

export function loadShardConfig(env: NodeJS.ProcessEnv): Loaded<ShardConfig> {
  return load(shardSchema, env, (e) => ({ ok: true, config: { ...configured(e).config, shardId: e.SHARD_ID!, shardCount: e.SHARD_COUNT as number, restProxyUrl: e.REST_PROXY_URL! } }));
}

/** The REST proxy run on its own (dist/proxy.mjs): it needs no secret, only where to listen and where Discord is. */
export interface ProxyConfig {
  restProxyUrl: string;
  discordApiBaseUrl: string;
  logLevel: Config['logLevel'];
  logFormat?: Config['logFormat'];
}

export function loadProxyConfig(env: NodeJS.ProcessEnv): Loaded<ProxyConfig> {
  return load(proxySchema, env, (e) => ({ ok: true, config: { restProxyUrl: e.REST_PROXY_URL!, discordApiBaseUrl: e.DISCORD_API_BASE_URL, logLevel: e.LOG_LEVEL, ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}) } }));
}

/** The configuration, from the validated environment. */
function configured(e: Env): { ok: true; config: Config } {
  return {
    ok: true,
    config: {
      discordToken: e.DISCORD_TOKEN,
      discordApplicationId: e.DISCORD_APPLICATION_ID ?? applicationIdFromToken(e.DISCORD_TOKEN)!,
      robloxApiKey: e.ROBLOX_API_KEY,
      databaseUrl: e.DATABASE_URL,
      syncCron: e.SYNC_CRON,
      robloxInventoryRateLimit: e.ROBLOX_INVENTORY_RATE_LIMIT,
      robloxUsersRateLimit: e.ROBLOX_USERS_RATE_LIMIT,
      robloxUsernamesRateLimit: e.ROBLOX_USERNAMES_RATE_LIMIT,
      robloxGroupsRateLimit: e.ROBLOX_GROUPS_RATE_LIMIT,
      discordApiBaseUrl: e.DISCORD_API_BASE_URL,
      robloxApiBaseUrl: e.ROBLOX_API_BASE_URL,
      robloxUsersApiBaseUrl: e.ROBLOX_USERS_API_BASE_URL,
      robloxBadgesApiBaseUrl: e.ROBLOX_BADGES_API_BASE_URL,
      robloxEconomyApiBaseUrl: e.ROBLOX_ECONOMY_API_BASE_URL,
      logLevel: e.LOG_LEVEL,
      ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}),
      httpPort: e.HTTP_PORT,
      ...(e.SHARD_COUNT !== undefined ? { shardCount: e.SHARD_COUNT } : {}),
      oauth:
        e.ROBLOX_OAUTH_CLIENT_ID && e.ROBLOX_OAUTH_CLIENT_SECRET && e.DISCORD_CLIENT_SECRET && e.PUBLIC_URL && e.TOKEN_ENCRYPTION_KEY
          ? { clientId: e.ROBLOX_OAUTH_CLIENT_ID, clientSecret: e.ROBLOX_OAUTH_CLIENT_SECRET, discordClientSecret: e.DISCORD_CLIENT_SECRET, publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''), tokenKey: parseTokenKey(e.TOKEN_ENCRYPTION_KEY)! }
          : undefined,
      ...(e.REDIS_URL ? { redisUrl: e.REDIS_URL } : {}),
    },
  };
}
