// `npm run bench -- --processes 1,2,4`: the multi-process configuration, as `npm start` runs it in
// queue mode. For each count N: a throwaway redis-server, a fresh database, the fakes in this
// process (servers placed on N gateway shards, linked members spread over them), and N bot
// processes, each holding its shard: one alone as `npm start` with REDIS_URL runs it, several under
// the shard manager (src/manager.ts, its REST proxy included) as `npm start` with SHARD_COUNT=N
// runs them. A cycle is a tick on the shared queue; whichever process takes it plans the run, and
// every process takes batches until it closes. Counted per cycle: wall time against the ideal the
// shared Roblox budget sets, each member's inventory reads (once each?), 429s, Discord requests,
// each process's database time, peak RSS and CPU, and the CPU of everything else on the machine.

import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { openDatabase } from '../src/database/client';
import { addTick } from '../src/queue/cycle';
import { QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/jobs';
import { dropTestDatabase } from '../test/database';
import { startRedis } from '../test/redis';
import type { BotArgs, ProcessFigures } from './bot-process';
import { buildWorld, type Population } from './population';

export interface ProcessesRun {
  members: number;
  servers: number;
  latencyMs: number;
  perWindow: number;
  windowMs: number;
  cycles: number;
  databaseServer?: string;
  /** Node flags of `npm start` (the heap caps), for every bot process and the manager. */
  nodeFlags: string[];
}

interface CycleFigures {
  ms: number;
  checked: number;
  /** Inventory reads Roblox answered, the members they were for, and 429s. */
  inventory: number;
  membersRead: number;
  own429: number;
  /** Discord REST requests reaching the fake, by route, most first; and gateway member requests. */
  discordRest: [string, number][];
  gateway: number;
  bots: ProcessFigures[];
  manager?: ProcessFigures;
  /** CPU ms of this process (the fakes), redis-server and the database's server processes for this database. */
  fakesCpuMs: number;
  redisCpuMs: number;
  /** Redis commands of the cycle, by command, most first. */
  redisCommands: [string, number][];
  postgresCpuMs?: number;
  postgresTransactions?: number;
  /** The whole machine's busy share of its cores over the cycle, everyone's work included. */
  machineBusy: number;
  /** This process's event-loop delay, p99, in ms: how late the fakes answered for being busy. */
  fakesDelayP99Ms: number;
  load: [number, number];
}

interface Fleet {
  ready: Promise<{ bots: number[]; manager?: number }>;
  ask(message: { mark: true } | { report: true }): Promise<{ bots: ProcessFigures[]; manager?: ProcessFigures }>;
  /** Without the queue: the one process runs a cycle itself; its wall time and members checked. */
  cycle(): Promise<{ ms: number; checked: number }>;
  stop(): Promise<void>;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** A process's CPU time (user + system) in ms, from /proc; 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The machine's CPU counters (all cores): busy and total, in clock ticks. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/**
 * The PostgreSQL server's side of `databaseUrl`: the CPU ms of each backend serving it, by pid, and
 * the transactions it committed or rolled back (each statement outside a transaction is one). The
 * server publishes a backend's counts within a second or so, so a cycle's may be off by that much.
 */
async function postgresSide(databaseUrl: string): Promise<{ backends: Map<number, number>; transactions: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const stats = await client.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
    return { backends: new Map(rows.map(({ pid }) => [pid, cpuOf(pid)])), transactions: Number(stats.rows[0]!.n) };
  } finally {
    await client.end();
  }
}

/** Commands Redis has run since it started, by command. */
async function redisCommands(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** Requests by route ("GET /guilds/{guild_id}"), most first. */
function byRoute(requests: readonly { method: string; template: string }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const { method, template } of requests) counts.set(`${method} ${template}`, (counts.get(`${method} ${template}`) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** The commands of a cycle: each command's count since `from`, most first. */
function commandsSince(from: Map<string, number>, to: Map<string, number>): [string, number][] {
  return [...to].map(([name, calls]): [string, number] => [name, calls - (from.get(name) ?? 0)]).filter(([, calls]) => calls > 0).sort((a, b) => b[1] - a[1]);
}

/** N bot processes: one forked directly, or several under the shard manager. */
function startFleet(count: number, args: BotArgs, nodeFlags: string[]): Fleet {
  const manager = count > 1;
  const child: ChildProcess = fork(manager ? 'dist/bench-manager.mjs' : 'dist/bench-bot.mjs', [JSON.stringify(args)], {
    execArgv: ['--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const next = (key: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`the benchmark's ${manager ? 'manager' : 'bot'} process exited (${code}) while waiting for "${key}"`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  type Answer = { shards?: Record<string, unknown>[]; manager?: ProcessFigures; idleRssMb?: number; report?: ProcessFigures };
  return {
    ready: next('ready').then((m) => {
      const answer = m as Answer & { manager?: { idleRssMb: number } };
      return manager ? { bots: answer.shards!.map((s) => s.idleRssMb as number), manager: answer.manager!.idleRssMb } : { bots: [answer.idleRssMb!] };
    }),
    async ask(message) {
      const key = 'mark' in message ? 'marked' : 'report';
      const answer = next(key);
      child.send(message);
      const m = (await answer) as Answer;
      if (!manager) return { bots: [m.report ?? zero()] };
      return { bots: m.shards!.map((s) => (s.report as ProcessFigures | undefined) ?? zero()), manager: m.manager };
    },
    async cycle() {
      const answer = next('totals');
      child.send({ cycle: true });
      const m = (await answer) as { ms: number; totals: { checked: number } };
      return { ms: m.ms, checked: m.totals.checked };
    },
    async stop() {
      child.send({ stop: true });
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

const zero = (): ProcessFigures => ({ dbMs: 0, dbBusyMs: 0, planMs: 0, peakRssMb: 0, cpuMs: 0 });

/** A configuration: how many bot processes, and whether they share the queue (without it, one process as `npm start` runs today). */
export interface Setup {
  processes: number;
  queue: boolean;
}

const label = (setup: Setup) => (setup.queue ? String(setup.processes) : `${setup.processes}, no queue`);

/** One configuration over a fresh world, database and Redis; `cycles` cycles measured. */
async function measureSetup(setup: Setup, run: ProcessesRun): Promise<{ cycles: CycleFigures[]; idle: { bots: number[]; manager?: number } }> {
  const { processes } = setup;
  const redis = await startRedis();
  const built = Date.now();
  const p: Population = { members: run.members, servers: run.servers, bindsPerServer: 3, ownership: 0.1, preassigned: true, latencyMs: run.latencyMs, perWindow: run.perWindow, windowMs: run.windowMs, spread: true, shards: processes, databaseServer: run.databaseServer };
  const world = await buildWorld(p);
  console.error(`  built ${run.members} members in ${run.servers} servers on ${processes} shard(s) in ${((Date.now() - built) / 1000).toFixed(1)} s`);
  const args: BotArgs = {
    config: { ...world.config, redisUrl: setup.queue ? redis.url : undefined, shardCount: processes > 1 ? processes : undefined },
    windowMs: run.windowMs,
    // Discord's 50 requests/s global limit, scaled like Roblox's window (60 s in production).
    discordGlobalPerSecond: Math.round((50 * 60_000) / run.windowMs),
  };
  const started = Date.now();
  const fleet = startFleet(processes, args, run.nodeFlags);
  const idle = await fleet.ready;
  console.error(`  ${processes} process(es) connected and indexed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const db = openDatabase(world.config.databaseUrl);
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
  /** Queue mode: a tick any process may take; the cycle has ended when its run is closed. */
  const queuedCycle = async (c: number) => {
    const t0 = Date.now();
    await addTick(queue, 'bench');
    let progressAt = t0;
    while ((await db.syncRun.count({ where: { NOT: { finishedAt: null } } })) < c + 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (Date.now() - progressAt >= 30_000) {
        progressAt = Date.now();
        console.error(`    ${((progressAt - t0) / 1000).toFixed(0)} s: ${world.roblox.count('inventory')} Roblox inventory requests`);
      }
    }
    const finished = await db.syncRun.findFirstOrThrow({ where: { NOT: { finishedAt: null } }, orderBy: { id: 'desc' } });
    return { ms: finished.finishedAt!.getTime() - t0, checked: finished.checked };
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const cycles: CycleFigures[] = [];
  try {
    for (let c = 0; c < run.cycles; c++) {
      await fleet.ask({ mark: true });
      const from = { requests: world.roblox.requests.length, rest: world.discord.requests.length, gateway: world.discord.memberReads.gateway, cpu: process.cpuUsage(), redis: cpuOf(redis.pid), redisCommands: await redisCommands(connection), machine: machineCpu(), load: loadavg()[0]! };
      const postgres = run.databaseServer ? await postgresSide(world.config.databaseUrl) : undefined;
      delay.reset();
      delay.enable();
      const { ms, checked } = setup.queue ? await queuedCycle(c) : await fleet.cycle();
      delay.disable();
      const machine = machineCpu();
      const cpu = process.cpuUsage(from.cpu);
      const postgresAfter = postgres ? await postgresSide(world.config.databaseUrl) : undefined;
      const figures = await fleet.ask({ report: true });
      const reads = world.roblox.requests.slice(from.requests).filter((r) => r.route === 'inventory');
      const answered = reads.filter((r) => r.status !== 429);
      cycles.push({
        ms,
        checked,
        inventory: answered.length,
        membersRead: new Set(answered.map((r) => r.userId)).size,
        own429: reads.length - answered.length,
        discordRest: byRoute(world.discord.requests.slice(from.rest)),
        gateway: world.discord.memberReads.gateway - from.gateway,
        bots: figures.bots,
        manager: figures.manager,
        fakesCpuMs: (cpu.user + cpu.system) / 1000,
        redisCpuMs: cpuOf(redis.pid) - from.redis,
        redisCommands: commandsSince(from.redisCommands, await redisCommands(connection)),
        postgresCpuMs: postgresAfter && [...postgresAfter.backends].reduce((n, [pid, at]) => n + at - (postgres!.backends.get(pid) ?? 0), 0),
        postgresTransactions: postgresAfter && postgresAfter.transactions - postgres!.transactions,
        machineBusy: (machine.busy - from.machine.busy) / (machine.total - from.machine.total),
        fakesDelayP99Ms: delay.percentile(99) / 1e6,
        load: [from.load, loadavg()[0]!],
      });
      // Counted; a large run's records would only hold memory.
      world.roblox.requests.length = 0;
      world.discord.requests.length = 0;
      console.error(`  cycle ${c + 1}: ${(ms / 1000).toFixed(1)} s`);
    }
  } finally {
    await fleet.stop();
    await queue.close();
    connection.disconnect();
    await db.$disconnect();
    await Promise.all([world.discord.close(), world.roblox.close()]);
    await dropTestDatabase(world.config.databaseUrl);
    rmSync(world.dir, { recursive: true, force: true });
    await redis.stop();
  }
  return { cycles, idle };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const countOf = (counts: [string, number][]) => counts.reduce((n, [, count]) => n + count, 0);
const sum = (figures: ProcessFigures[], key: keyof ProcessFigures) => figures.reduce((n, f) => n + f[key], 0);

/** Runs each configuration in turn: two tables (what a cycle costs; where its time goes), a row per cycle. */
export async function measureProcesses(setups: Setup[], run: ProcessesRun): Promise<{ cost: string[]; time: string[] }> {
  const scale = 60_000 / run.windowMs;
  const minutes = (ms: number) => `${((ms * scale) / 60_000).toFixed(0)} min`;
  // One inventory read per member at the key owner's rate, however many processes share it.
  const ideal = (run.members / run.perWindow) * run.windowMs;
  const perMember = (n: number) => (n / run.members).toFixed(2);
  const cost = [
    `| processes | cycle | wall time (real-time equivalent); ideal ${seconds(ideal)} (${minutes(ideal)}) | database busy, all processes (each) | PostgreSQL's CPU | peak RSS per process, MB (manager) | members checked; inventory reads per member / members read twice / not read / 429s |`,
    '|---|---|---|---|---|---|---|',
  ];
  const time = [
    '| processes | cycle | CPU s: bots / manager / fakes / Redis / PostgreSQL (total) | machine busy (load average before → after) | fakes\' event-loop delay, p99 | per member: Discord REST requests / Redis commands / PostgreSQL transactions |',
    '|---|---|---|---|---|---|',
  ];
  for (const setup of setups) {
    console.error(`processes run: ${label(setup)}: ${run.members} members in ${run.servers} servers, ${run.perWindow} inventory requests per ${run.windowMs} ms (×${scale.toFixed(0)})`);
    const { cycles, idle } = await measureSetup(setup, run);
    console.error(`  idle RSS after start: ${idle.bots.map((mb) => mb.toFixed(0)).join(', ')} MB${idle.manager ? `; manager ${idle.manager.toFixed(0)} MB` : ''}`);
    cycles.forEach((c, i) => {
      console.error(`  cycle ${i + 1}: database steps summed ${seconds(sum(c.bots, 'dbMs'))}, planner ${seconds(sum(c.bots, 'planMs'))}`);
      console.error(`    Redis commands per member (scripts' own calls included): ${c.redisCommands.slice(0, 8).map(([name, calls]) => `${name} ${perMember(calls)}`).join(', ')}`);
      console.error(`    Discord requests per member: ${c.discordRest.slice(0, 6).map(([route, n]) => `${route} ${perMember(n)}`).join(', ')}`);
      const row = (cells: string[]) => `| ${[label(setup), i === 0 ? 'first' : 'steady', ...cells].join(' | ')} |`;
      cost.push(
        row([
          `${seconds(c.ms)} (${minutes(c.ms)}), ${((ideal / c.ms) * 100).toFixed(0)} % of ideal speed`,
          `${seconds(sum(c.bots, 'dbBusyMs'))}${c.bots.length > 1 ? ` (${c.bots.map((b) => seconds(b.dbBusyMs)).join(', ')})` : ''}`,
          c.postgresCpuMs !== undefined ? seconds(c.postgresCpuMs) : '—',
          `${c.bots.map((b) => b.peakRssMb.toFixed(0)).join(', ')}${c.manager ? ` (${c.manager.peakRssMb.toFixed(0)})` : ''}`,
          `${c.checked}; ${(c.inventory / run.members).toFixed(3)} / ${c.inventory - c.membersRead} / ${run.members - c.membersRead} / ${c.own429}`,
        ]),
      );
      const cpu = sum(c.bots, 'cpuMs') + (c.manager?.cpuMs ?? 0) + c.fakesCpuMs + c.redisCpuMs + (c.postgresCpuMs ?? 0);
      time.push(
        row([
          `${seconds(sum(c.bots, 'cpuMs'))} / ${c.manager ? seconds(c.manager.cpuMs) : '—'} / ${seconds(c.fakesCpuMs)} / ${seconds(c.redisCpuMs)} / ${c.postgresCpuMs !== undefined ? seconds(c.postgresCpuMs) : '—'} (${seconds(cpu)}, ${((cpu / c.ms) * 100).toFixed(0)} % of a core)`,
          `${(c.machineBusy * 100).toFixed(0)} % (${c.load[0].toFixed(1)} → ${c.load[1].toFixed(1)})`,
          `${c.fakesDelayP99Ms.toFixed(0)} ms`,
          `${perMember(countOf(c.discordRest))}${c.gateway > 0 ? ` (and ${c.gateway} gateway requests)` : ''} / ${perMember(countOf(c.redisCommands))} / ${c.postgresTransactions !== undefined ? perMember(c.postgresTransactions) : '—'}`,
        ]),
      );
    });
    // A long run's rows so far, in case a later configuration fails.
    console.error([...cost.slice(-cycles.length), ...time.slice(-cycles.length)].join('\n'));
  }
  return { cost, time };
}
