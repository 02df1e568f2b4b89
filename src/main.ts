// `npm start`: read the environment, start the bot, stop cleanly on SIGINT/SIGTERM. With SHARD_COUNT
// above 1 (or auto) this process becomes the manager (src/manager.ts), which runs this same file
// once per shard; discord.js's ShardingManager marks those processes with SHARDING_MANAGER and
// tells each its shard (SHARDS) of how many (SHARD_COUNT), which its Client reads by itself.
// A service manager (systemd) runs each shard and the REST proxy on its own instead: src/shard.ts, src/proxy.ts.

import 'dotenv/config';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig, multiProcess } from './config';
import { onSignals, runBot } from './lifecycle';
import { createLogger, type Logger } from './log';
import { REST_PROXY_ENV, startManager } from './manager';

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const { config } = loaded;
const rootLog = createLogger(config.logLevel, undefined, config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'));

process.on('unhandledRejection', (error) => rootLog.error({ err: error }, 'unhandled rejection'));

const shardProcess = process.env.SHARDING_MANAGER !== undefined;
if (shardProcess) {
  const shard = Number(JSON.parse(process.env.SHARDS ?? '0'));
  // Each shard process serves health, metrics and sign-in pages on HTTP_PORT plus its shard, so they do not collide.
  const httpPort = config.httpPort ? config.httpPort + shard : config.httpPort;
  // Under the manager, a configuration error (token, intents, shards) would only fail again if restarted.
  const shutdown = runBot({ ...config, httpPort }, { log: rootLog.child({ shard, shardCount: Number(process.env.SHARD_COUNT) }), restProxyUrl: process.env[REST_PROXY_ENV] }, true);
  // A shard process left behind by a manager that died would hold its shard and nobody would stop it.
  process.on('disconnect', () => shutdown('manager gone'));
} else if (multiProcess(config.shardCount)) runManager(config, rootLog.child({ process: 'manager' }));
else {
  // discord.js's Client reads SHARD_COUNT from the environment too, and would take an empty one (.env's "SHARD_COUNT=") for 0 shards.
  delete process.env.SHARD_COUNT;
  runBot(config, { log: rootLog }, false);
}

function runManager(config: Config, log: Logger): void {
  const starting = startManager(config, { log, file: fileURLToPath(import.meta.url) });
  onSignals(log, () => starting.then((manager) => manager.stop(), () => undefined));
  starting.then(
    (manager) => manager.failed.then((code) => manager.stop().finally(() => process.exit(code))),
    (error: unknown) => {
      log.fatal({ err: error }, 'could not start the shard manager');
      process.exit(1);
    },
  );
}
