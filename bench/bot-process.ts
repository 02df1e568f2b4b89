// The bot under benchmark, alone in its process so its memory is its own. The parent sends
// {cycle: true} and gets the cycle's figures back; {stop: true} ends it.

import { startBot } from '../src/bot';
import type { Config } from '../src/config';
import { createLogger } from '../src/log';

const { config, windowMs, discordGlobalPerSecond } = JSON.parse(process.argv[2]!) as { config: Config; windowMs: number; discordGlobalPerSecond: number };
const scale = windowMs / 60_000;
const stats = { planMs: 0, dbMs: 0 };
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
setInterval(sample, 50).unref();

const bot = await startBot(config, {
  log: createLogger('warn', { write: (line: string) => void process.stderr.write(line) }),
  robloxWindowMs: windowMs,
  discordRest: { globalRequestsPerSecond: discordGlobalPerSecond },
  // The membership index's paging, scaled with time like the rate limits.
  reconcilePageMs: 100 * scale,
  stats,
});
await bot.indexReady();
global.gc?.();
process.send!({ ready: true, idleRssMb: process.memoryUsage().rss / 2 ** 20 });

process.on('message', async (message: { cycle?: boolean; stop?: boolean }) => {
  if (message.stop) {
    await bot.stop();
    process.exit(0);
  }
  stats.planMs = 0;
  stats.dbMs = 0;
  peakRss = 0;
  sample();
  const started = performance.now();
  const totals = await bot.runs.runAll('bench');
  sample();
  process.send!({ ms: performance.now() - started, totals, dbMs: stats.dbMs, planMs: stats.planMs, peakRssMb: peakRss / 2 ** 20 });
});
