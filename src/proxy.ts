// `node dist/proxy.mjs`: the REST proxy (src/restproxy.ts) run on its own by a service manager
// (systemd's gatepass-proxy.service), for shard processes run on their own (dist/shard.mjs). It
// listens on REST_PROXY_URL, loopback only, and holds no secret: each shard's requests carry their
// own Authorization header. A configuration error exits 78, not to be restarted.

import 'dotenv/config';
import { loadProxyConfig } from './config';
import { EXIT_CONFIG, onSignals } from './lifecycle';
import { createLogger } from './log';
import { proxyAddress, startRestProxy } from './restproxy';

const loaded = loadProxyConfig(process.env);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(EXIT_CONFIG);
}
const { config } = loaded;
const log = createLogger(config.logLevel, undefined, config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')).child({ process: 'proxy' });
process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

const starting = startRestProxy({ discordApiBaseUrl: config.discordApiBaseUrl, ...proxyAddress(config.restProxyUrl), log });
onSignals(log, () => starting.then((proxy) => proxy.close(), () => undefined));
starting.then(
  () => log.info({ listening: config.restProxyUrl, discord: config.discordApiBaseUrl }, 'REST proxy listening'),
  (error: unknown) => {
    // Most often the port is taken (a proxy still stopping, or another program): a restart may succeed.
    console.error(`The REST proxy could not listen on ${config.restProxyUrl} (REST_PROXY_URL): ${(error as Error).message}`);
    process.exit(1);
  },
);
