// `npm start` with SHARD_COUNT above 1 (or auto): this process holds no gateway connection and does
// no sync. It runs one bot process per shard (discord.js ShardingManager over the same bundle, each
// restarted when it dies) and the REST proxy (src/restproxy.ts) on a free loopback port that every
// shard process sends its Discord requests through.

import type { REST, RESTOptions } from '@discordjs/rest';
import { type RESTGetAPIGatewayBotResult, Routes, ShardingManager } from 'discord.js';
import type { Config } from './config';
import { EXIT_CONFIG } from './lifecycle';
import type { Logger } from './log';
import { startRestProxy } from './restproxy';

/** The environment variable through which a shard process learns the proxy's address. */
export const REST_PROXY_ENV = 'GATEPASS_REST_PROXY';

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

/** Starts the proxy and the shard processes, each running `file` (this bundle); `rest` as startRestProxy takes it. */
export async function startManager(config: Config, options: { log: Logger; file: string; rest?: Partial<RESTOptions> }): Promise<Manager> {
  const { log } = options;
  const proxy = await startRestProxy({ discordApiBaseUrl: config.discordApiBaseUrl, host: '127.0.0.1', port: 0, log, rest: options.rest });
  const proxyUrl = proxy.apiUrl;

  let shardCount: number;
  try {
    // The proxy forwards each shard's own Authorization header; the token set here is only for /gateway/bot.
    shardCount = config.shardCount === 'auto' ? await recommendedShards(proxy.rest.setToken(config.discordToken)) : (config.shardCount ?? 1);
  } catch (error) {
    await proxy.close();
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
    await proxy.close();
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
