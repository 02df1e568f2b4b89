// The shard manager under benchmark, in its own process as `npm start` runs it with SHARD_COUNT > 1:
// src/manager.ts's ShardingManager and REST proxy, with the benchmark's bot (bench/bot-process.ts)
// as each shard's process. It passes the parent's messages on to every shard and answers with all
// of theirs at once, its own figures beside them.

import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/log';
import { startManager } from '../src/manager';
import type { BotArgs, ProcessFigures } from './bot-process';

const args = JSON.parse(process.argv[2]!) as BotArgs;
// discord.js starts shard processes with the manager's environment and no arguments of ours.
process.env.GATEPASS_BENCH_BOT = process.argv[2];
const botFile = fileURLToPath(new URL('./bench-bot.mjs', import.meta.url));

let peakRss = 0;
let cpuFrom = process.cpuUsage();
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
setInterval(sample, 50).unref();

const manager = await startManager(args.config, {
  log: createLogger('warn', { write: (line: string) => void process.stderr.write(line) }),
  file: botFile,
  // The proxy holds the bot's one Discord queue: its global limit is scaled like each process's.
  rest: { globalRequestsPerSecond: args.discordGlobalPerSecond },
});
manager.failed.then((code) => process.exit(code));

/** Waits for one message with `key` from every shard: [shard id, message] in shard order. */
function fromEveryShard(key: string): Promise<Record<string, unknown>[]> {
  return Promise.all(
    Array.from({ length: manager.shardCount }, (_, id) => {
      const shard = () => manager.shards.shards.get(id);
      return new Promise<Record<string, unknown>>((resolve) => {
        const listen = () => {
          const onMessage = (message: Record<string, unknown>) => {
            if (!(key in message)) return;
            shard()!.off('message', onMessage);
            resolve({ shard: id, ...message });
          };
          shard()!.on('message', onMessage);
        };
        // Shards are created one by one (5.5 s apart, Discord's identify limit).
        if (shard()) listen();
        else manager.shards.on('shardCreate', (created) => created.id === id && listen());
      });
    }),
  );
}

const own = (): ProcessFigures => {
  sample();
  const cpu = process.cpuUsage(cpuFrom);
  return { dbMs: 0, dbBusyMs: 0, planMs: 0, peakRssMb: peakRss / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 };
};

const ready = fromEveryShard('ready');
ready.then((shards) => process.send!({ ready: true, shards, manager: { idleRssMb: process.memoryUsage().rss / 2 ** 20 } }));

process.on('message', async (message: { mark?: boolean; report?: boolean; stop?: boolean }) => {
  await ready;
  if (message.stop) {
    await manager.stop();
    process.exit(0);
  }
  const key = message.mark ? 'marked' : 'report';
  const answers = fromEveryShard(key);
  for (const shard of manager.shards.shards.values()) void shard.send(message);
  const shards = await answers;
  if (message.mark) {
    peakRss = 0;
    cpuFrom = process.cpuUsage();
  }
  process.send!({ [key]: true, shards, manager: own() });
});
