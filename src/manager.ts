// `npm start` with SHARD_COUNT above 1 (or auto): this process holds no gateway connection and does
// no sync. It runs one bot process per shard (discord.js ShardingManager over the same bundle, each
// restarted when it dies) and a REST proxy (@discordjs/proxy) on a local port that every shard
// process sends its Discord requests through: one @discordjs/rest queue, so Discord's global 50
// requests a second and its buckets are counted once for the bot, not once per process.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { populateErrorResponse, populateSuccessfulResponse } from '@discordjs/proxy';
import { REST, type RequestMethod, type RouteLike } from '@discordjs/rest';
import { type RESTGetAPIGatewayBotResult, Routes, ShardingManager } from 'discord.js';
import type { Config } from './config';
import type { Logger } from './log';

/** The environment variable through which a shard process learns the proxy's address. */
export const REST_PROXY_ENV = 'GATEPASS_REST_PROXY';

/** A shard process exits with this when its configuration is wrong: restarting it would only fail again. */
export const EXIT_CONFIG = 78;

/** Discord lets a bot identify once per 5 seconds (max_concurrency 1): shards are started that far apart. */
const SPAWN_DELAY_MS = 5_500;

export interface Manager {
  /** The shards' REST proxy, e.g. http://127.0.0.1:41234/api */
  proxyUrl: string;
  shardCount: number;
  shards: ShardingManager;
  /** Settles with an exit code when the shards cannot go on (a shard's configuration is wrong); the caller then stops the rest. */
  failed: Promise<number>;
  /** Stops every shard process (SIGTERM, as a service manager would) and waits for them, then the proxy. */
  stop(): Promise<void>;
}

/** Starts the proxy and the shard processes, each running `file` (this bundle). */
export async function startManager(config: Config, options: { log: Logger; file: string }): Promise<Manager> {
  const { log } = options;
  // The proxy forwards each shard's own Authorization header; the token set here is only for /gateway/bot.
  const rest = new REST({ api: config.discordApiBaseUrl }).setToken(config.discordToken);
  rest.on('rateLimited', (info) => log.debug({ route: info.route, retryAfter: info.timeToReset, scope: info.scope, global: info.global }, 'discord rate limit (all shards)'));
  const proxy = await listenLocally(rest, log);
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;

  let shardCount: number;
  try {
    shardCount = config.shardCount === 'auto' ? await recommendedShards(rest) : (config.shardCount ?? 1);
  } catch (error) {
    await new Promise((resolve) => proxy.close(resolve));
    throw error;
  }
  log.info({ shardCount, auto: config.shardCount === 'auto', proxy: proxyUrl }, 'starting shard processes');

  const shards = new ShardingManager(options.file, { totalShards: shardCount, respawn: true, token: config.discordToken, mode: 'process', execArgv: process.execArgv });
  let fail: (code: number) => void = () => undefined;
  const failed = new Promise<number>((resolve) => (fail = resolve));
  let stopping = false;
  shards.on('shardCreate', (shard) => {
    (shard.env as NodeJS.ProcessEnv)[REST_PROXY_ENV] = proxyUrl;
    shard.on('spawn', (child) => {
      log.info({ shard: shard.id, pid: shard.process?.pid }, 'shard process started');
      // Ahead of discord.js's own exit listener, which restarts the shard if `respawn` is still on.
      child.prependListener('exit', (code: number | null) => {
        if (code === EXIT_CONFIG) shards.respawn = false;
      });
    });
    shard.on('ready', () => log.info({ shard: shard.id }, 'shard connected to Discord'));
    shard.on('error', (error) => log.error({ shard: shard.id, err: error }, 'shard process error'));
    shard.on('death', (child) => {
      if (stopping) return;
      const code = 'exitCode' in child ? child.exitCode : null;
      if (code === EXIT_CONFIG) {
        // The shard said what is wrong; starting it again would say it again, forever.
        log.fatal({ shard: shard.id }, 'a shard process cannot start with this configuration; stopping all of them');
        fail(1);
      } else {
        log.warn({ shard: shard.id, exitCode: code }, 'shard process died; starting it again');
      }
    });
  });

  const stop = async () => {
    stopping = true;
    shards.respawn = false;
    await Promise.all(
      shards.shards.map((shard) => {
        const child = shard.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((resolve) => child.once('exit', resolve));
        shard.kill();
        return exited;
      }),
    );
    await new Promise((resolve) => proxy.close(resolve));
  };

  // Not waited for: a shard that fails to connect is restarted, and the others still start.
  shards.spawn({ amount: shardCount, delay: SPAWN_DELAY_MS, timeout: -1 }).catch((error: unknown) => {
    log.fatal({ err: error }, 'could not start the shard processes');
    fail(1);
  });
  return { proxyUrl, shardCount, shards, failed, stop };
}

/** Discord's recommended shard count (GET /gateway/bot), what SHARD_COUNT=auto means. */
async function recommendedShards(rest: REST): Promise<number> {
  const answer = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
  if (!Number.isInteger(answer.shards) || answer.shards < 1) throw new Error(`Discord recommended ${String(answer.shards)} shards, which is not a shard count`);
  return answer.shards;
}

/** The proxy, on the loopback interface only: it is for this machine's shard processes (and the fault suite's bot processes). */
export async function listenLocally(rest: REST, log: Logger): Promise<Server> {
  const handle = forward(rest);
  const server = createServer((req, res) => {
    // The proxy sets the status of every answer it understands; anything else (Discord unreachable)
    // ends as this 502, which the shard's own REST client retries, rather than an empty 200.
    res.statusCode = 502;
    Promise.resolve(handle(req, res)).catch((error: unknown) => {
      log.warn({ err: error, method: req.method }, 'REST proxy: request to Discord failed');
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/**
 * @discordjs/proxy's proxyRequests, but with the body read whole before it is queued. proxyRequests
 * hands the incoming stream itself to the queue, and a retry (after a 429 or a 5xx) finds it
 * consumed: the retry went to Discord with no body, a nickname or an interaction's answer lost.
 */
function forward(rest: REST) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const body = await buffer(req);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'authorization', 'x-audit-log-reason']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const answer = await rest.queueRequest({
        fullRoute: url.pathname.replace(/^\/api(\/v\d+)?/, '') as RouteLike,
        // Discord itself answers a method it does not know.
        method: req.method as RequestMethod,
        query: url.searchParams,
        headers,
        // The shard's own Authorization header goes through as it is.
        auth: false,
        body: body.length > 0 ? body : undefined,
        passThroughBody: true,
      });
      await populateSuccessfulResponse(res, answer);
    } catch (error) {
      if (!populateErrorResponse(res, error)) throw error;
    } finally {
      res.end();
    }
  };
}
