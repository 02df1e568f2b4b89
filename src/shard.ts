// `node dist/shard.mjs`: one shard's process run on its own by a service manager (systemd's
// gatepass@.service, one unit per shard, SHARD_ID=%i) instead of npm start's manager. It runs the
// whole bot for the servers Discord routes to shard SHARD_ID of SHARD_COUNT, sends its Discord
// requests through the REST proxy at REST_PROXY_URL (dist/proxy.mjs), shares the cycle through the
// queue in Redis, and identifies in its turn (src/queue/identify.ts). The service manager restarts
// it when it dies, as the manager would; a configuration error exits 78, not to be restarted.

import 'dotenv/config';
import { loadShardConfig } from './config';
import { EXIT_CONFIG, runBot } from './lifecycle';
import { createLogger } from './log';
import { proxyApiUrl, proxyListening } from './restproxy';

/** How long a shard process waits for its proxy before it exits (and is restarted). */
const PROXY_WAIT_MS = 30_000;

const loaded = loadShardConfig(process.env);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(EXIT_CONFIG);
}
const { config } = loaded;
const log = createLogger(config.logLevel, undefined, config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')).child({ shard: config.shardId, shardCount: config.shardCount });
process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

if (!(await proxyListening(config.restProxyUrl, PROXY_WAIT_MS, () => log.info({ proxy: config.restProxyUrl }, 'waiting for the REST proxy to listen')))) {
  console.error(`The REST proxy at ${config.restProxyUrl} (REST_PROXY_URL) is not listening after ${PROXY_WAIT_MS / 1000} s: start it (node dist/proxy.mjs; systemctl start gatepass-proxy).`);
  process.exit(1);
}
// Health, metrics and sign-in pages on HTTP_PORT plus the shard, as under npm start's manager.
const httpPort = config.httpPort ? config.httpPort + config.shardId : config.httpPort;
runBot({ ...config, httpPort }, { log, shards: { ids: [config.shardId], count: config.shardCount }, restProxyUrl: proxyApiUrl(config.restProxyUrl) }, true);
