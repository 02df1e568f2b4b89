// `npm run bench`: the real sync code over N linked members against fakes with Roblox's latency and
// rate limit, time-scaled; then the same population at 100,000 for memory and planning time; and a
// naive strategy (one request per bind, one member per second) measured on the same fakes.
//
//   npm run bench -- --members 10000 --latency 80 --rate 100 --window 3000 --large 100000 --write
//
// A third run puts a collectible bind in one of the 3 servers, group-rank binds in another, and 10
// rule binds in every server, for the requests a member costs and the planner's time
// (--rules-members, default --members).
//
// --processes 1,2,4 measures instead the multi-process configuration (queue mode on a throwaway
// redis-server, a shard manager for more than one process) over --members spread over --servers
// servers: see bench/processes.ts.
//
//   npm run bench -- --processes 1,2,4 --database postgres --postgres-url postgresql://postgres@127.0.0.1:5433/postgres --members 100000 --servers 2500
//
// --database postgres (the default when BENCH_POSTGRES_URL is set) runs every mode on a fresh
// PostgreSQL database on the server --postgres-url (or BENCH_POSTGRES_URL) names.

import { fork } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dropTestDatabase } from '../test/database';
import { parseArgs } from 'node:util';
import { bundle } from '../build.mjs';
import { createRobloxApi } from '../src/roblox/api';
import { listOwnedItems } from '../src/roblox/inventory';
import { BENCH_GROUP, buildWorld, COLLECTOR_COUNT, type Population } from './population';
import { measureProcesses } from './processes';

const { values: args } = parseArgs({
  options: {
    members: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '80' },
    rate: { type: 'string', default: '100' },
    window: { type: 'string', default: '3000' },
    large: { type: 'string', default: '100000' },
    'naive-sample': { type: 'string', default: '300' },
    /** Comma-separated server counts: members spread over 1 to 3 servers each; Discord member reads measured. With --processes: one count, the servers members are spread over (default 1000). */
    servers: { type: 'string', default: '' },
    'verify-sample': { type: 'string', default: '20' },
    'rules-members': { type: 'string' },
    write: { type: 'boolean', default: false },
    /** Comma-separated process counts: the multi-process configuration instead of the runs above. */
    processes: { type: 'string', default: '' },
    /** With --processes: first, one process without the queue (`npm start` without REDIS_URL), to set the queue's cost against. */
    baseline: { type: 'boolean', default: false },
    /** Cycles measured per process count: the first creates every outcome row, the next are steady. */
    cycles: { type: 'string', default: '2' },
    database: { type: 'string' },
    'postgres-url': { type: 'string' },
  },
});
const num = (name: keyof typeof args) => Number(args[name]);

interface Cycle {
  ms: number;
  dbMs: number;
  planMs: number;
  peakRssMb: number;
  totals: { checked: number; added: number; removed: number; unknown: number; problems: number };
  inventory: number;
  own429: number;
  writes: number;
  /** Discord member reads: REST Get Guild Member plus gateway member requests. */
  memberReads: number;
  /** Inventory requests of members in a server with a collectible bind, and of the others. */
  split: { collectors: { members: number; requests: number; collectible: number }; others: { members: number; requests: number } };
  /** Group requests: members of a server with group binds, their membership reads (pages included), and role reads. */
  groups: { members: number; memberships: number; roles: number; outside: number };
}

type World = Awaited<ReturnType<typeof buildWorld>>;

async function measure<T>(p: Population, cycles: number, afterCycles?: (world: World) => Promise<T>): Promise<{ cycles: Cycle[]; idleRssMb: number; naive?: { requestsPerMember: number; projectedMs: number }; after?: T; memberships: number }> {
  const built = Date.now();
  const world = await buildWorld(p);
  console.error(`  built ${p.members} members in ${((Date.now() - built) / 1000).toFixed(1)} s`);
  // Discord's 50 requests/s global limit, scaled like Roblox's window (which is 60 s in production).
  const discordGlobalPerSecond = Math.round((50 * 60_000) / p.windowMs);
  const child = fork('dist/bench-bot.mjs', [JSON.stringify({ config: world.config, windowMs: p.windowMs, discordGlobalPerSecond })], {
    execArgv: ['--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
  const { idleRssMb } = (await next()) as { idleRssMb: number };
  const results: Cycle[] = [];
  for (let c = 0; c < cycles; c++) {
    const before = { inventory: world.roblox.count('inventory'), e429: world.roblox.count('inventory', 429), writes: world.discord.roleWrites.length, reads: world.discord.memberReads.total(), requests: world.roblox.requests.length };
    child.send({ cycle: true });
    const figures = (await next()) as unknown as Omit<Cycle, 'inventory' | 'own429' | 'writes'>;
    results.push({
      ...figures,
      inventory: world.roblox.count('inventory') - before.inventory,
      own429: world.roblox.count('inventory', 429) - before.e429,
      writes: world.discord.roleWrites.length - before.writes,
      memberReads: world.discord.memberReads.total() - before.reads,
      split: splitRequests(world, before.requests),
      groups: groupRequests(world, before.requests),
    });
    world.roblox.requests.length = 0; // read; a large run's records would only hold memory
    console.error(`  cycle ${c + 1}: ${(figures.ms / 1000).toFixed(1)} s`);
  }
  const after = await afterCycles?.(world);
  child.send({ stop: true });
  await new Promise((resolve) => child.once('exit', resolve));

  let naive: { requestsPerMember: number; projectedMs: number } | undefined;
  const sample = Math.min(num('naive-sample'), p.members);
  if (p.latencyMs > 0 && sample > 0 && !p.spread) {
    await new Promise((r) => setTimeout(r, p.windowMs)); // let the fake's window empty
    naive = await measureNaive(world, p, sample);
  }
  const linked = new Set(world.links.map((l) => l.discordUserId));
  const memberships = world.servers.reduce((n, { guild }) => n + [...guild.members.keys()].filter((id) => linked.has(id)).length, 0);
  await Promise.all([world.discord.close(), world.roblox.close()]);
  await dropTestDatabase(world.config.databaseUrl);
  rmSync(world.dir, { recursive: true, force: true });
  return { cycles: results, idleRssMb, naive, after, memberships };
}

/** Requests per member, split by whether one of the member's servers has a collectible bind. */
function splitRequests(world: Awaited<ReturnType<typeof buildWorld>>, from: number): Cycle['split'] {
  const robloxOf = new Map(world.links.map((l) => [l.robloxUserId, l.discordUserId]));
  const linked = new Set(robloxOf.values());
  const asked = new Set(world.servers.filter((s) => s.collectible).flatMap((s) => [...s.guild.members.keys()].filter((id) => linked.has(id))));
  const split: Cycle['split'] = { collectors: { members: asked.size, requests: 0, collectible: 0 }, others: { members: world.links.length - asked.size, requests: 0 } };
  for (const r of world.roblox.requests.slice(from)) {
    if (r.route !== 'inventory' || r.status === 429) continue;
    const member = robloxOf.get(r.userId ?? '');
    if (member === undefined) continue;
    if (!asked.has(member)) split.others.requests++;
    else {
      split.collectors.requests++;
      if (r.query.filter?.startsWith('onlyCollectibles')) split.collectors.collectible++;
    }
  }
  return split;
}

/** Group reads of the cycle: membership requests (each for up to 50 users) and the users they name, inside and outside the group-bind server. */
function groupRequests(world: Awaited<ReturnType<typeof buildWorld>>, from: number): Cycle['groups'] {
  const linked = new Set(world.links.map((l) => l.discordUserId));
  const inServer = new Set(world.servers.filter((s) => s.groups.length > 0).flatMap((s) => [...s.guild.members.keys()].filter((id) => linked.has(id))));
  const robloxIn = new Set(world.links.filter((l) => inServer.has(l.discordUserId)).map((l) => l.robloxUserId));
  const reads = world.roblox.requests.slice(from).filter((r) => r.route === 'groupMemberships' && r.status !== 429);
  const named = reads.flatMap((r) => [...(r.query.filter ?? '').matchAll(/'users\/(\d+)'/g)].map((m) => m[1]!));
  return {
    members: inServer.size,
    memberships: reads.length,
    roles: world.roblox.requests.slice(from).filter((r) => r.route === 'groupRoles' && r.status !== 429).length,
    outside: named.filter((id) => !robloxIn.has(id)).length,
  };
}

/** What most bots do: one inventory request per bind, one member per (scaled) second. */
async function measureNaive(world: World, p: Population, sample: number) {
  const api = createRobloxApi({ apiBaseUrl: world.config.robloxApiBaseUrl, usersBaseUrl: world.config.robloxUsersApiBaseUrl, badgesBaseUrl: world.config.robloxBadgesApiBaseUrl, economyBaseUrl: world.config.robloxEconomyApiBaseUrl, apiKey: world.config.robloxApiKey, inventoryPerMinute: p.perWindow, windowMs: p.windowMs });
  const pacingMs = (1_000 * p.windowMs) / 60_000;
  const before = world.roblox.count('inventory');
  for (const link of world.links.slice(0, sample)) {
    const started = Date.now();
    for (const { guild, binds } of world.servers) {
      if (!guild.members.has(link.discordUserId)) continue;
      for (const { item } of binds) {
        const field = { gamepass: 'gamePassIds', badge: 'badgeIds', asset: 'assetIds', privateserver: 'privateServerIds' }[item.kind];
        await listOwnedItems(api, link.robloxUserId, `${field}=${item.id}`);
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, pacingMs - (Date.now() - started))));
  }
  const requestsPerMember = (world.roblox.count('inventory') - before) / sample;
  const projectedMs = p.members * Math.max(pacingMs, (requestsPerMember * p.windowMs) / p.perWindow);
  return { requestsPerMember, projectedMs };
}

// The bot runs as `npm start` runs it: bundled, with the same node flags (the heap caps).
await bundle({ 'bench-bot': 'bench/bot-process.ts', 'bench-manager': 'bench/manager-process.ts' });
const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
const nodeFlags = process.env.BENCH_BOT_NODE_FLAGS?.split(' ').filter(Boolean) ?? startScript.split(' ').filter((word) => word.startsWith('--'));

const postgresUrl = args['postgres-url'] ?? process.env.BENCH_POSTGRES_URL;
const database = args.database ?? (postgresUrl ? 'postgres' : 'sqlite');
if (database !== 'sqlite' && database !== 'postgres') throw new Error(`--database must be sqlite or postgres, not "${database}"`);
if (database === 'postgres' && !postgresUrl) throw new Error('--database postgres needs a server: --postgres-url postgresql://user@host:port/postgres (or BENCH_POSTGRES_URL)');

const base: Population = {
  members: num('members'),
  servers: 3,
  bindsPerServer: 10,
  ownership: 0.1,
  preassigned: false,
  latencyMs: num('latency'),
  perWindow: num('rate'),
  windowMs: num('window'),
  databaseServer: database === 'postgres' ? postgresUrl : undefined,
};
const scale = 60_000 / base.windowMs;
const minutes = (ms: number) => `${((ms * scale) / 60_000).toFixed(1)} min`;

if (args.processes) {
  const counts = args.processes.split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--processes must be process counts such as 1,2,4, not "${args.processes}"`);
  if (counts.some((n) => n > 1) && database !== 'postgres') throw new Error('--processes above 1 needs --database postgres: processes cannot share a SQLite database');
  const servers = Number(args.servers || '1000');
  if (!Number.isInteger(servers) || servers < 1) throw new Error(`--servers with --processes is one count of servers, not "${args.servers}"`);
  const setups = [...(args.baseline ? [{ processes: 1, queue: false }] : []), ...counts.map((processes) => ({ processes, queue: true }))];
  const { cost, time } = await measureProcesses(setups, { members: base.members, servers, latencyMs: base.latencyMs, perWindow: base.perWindow, windowMs: base.windowMs, cycles: num('cycles'), databaseServer: base.databaseServer, nodeFlags });
  console.log(`npm run bench -- --processes ${counts.join(',')} --database ${database} --members ${base.members} --servers ${servers} --latency ${base.latencyMs} --rate ${base.perWindow} --window ${base.windowMs} --cycles ${num('cycles')}${args.baseline ? ' --baseline' : ''}`);
  console.log(cost.join('\n'));
  console.log('');
  console.log(time.join('\n'));
  process.exit(0);
}

if (args.servers) {
  await measureServers(args.servers.split(',').map(Number));
  process.exit(0);
}

console.error(`time-scaled run: ${base.members} members, ${base.perWindow} requests per ${base.windowMs} ms (×${scale.toFixed(0)}), ${base.latencyMs} ms latency`);
const main = await measure(base, 2);
console.error(`large run: ${num('large')} members, budget unconstrained, roles preassigned`);
const large = await measure({ ...base, members: num('large'), latencyMs: 0, perWindow: 1_000_000, windowMs: 1_000, preassigned: true }, 2);

const rulesMembers = Number(args['rules-members'] ?? base.members);
console.error(`rules run: ${rulesMembers} members, a collectible bind in 1 of 3 servers, group binds in another, 10 rules per server, budget unconstrained`);
const ruled = await measure({ ...base, members: rulesMembers, latencyMs: 0, perWindow: 1_000_000, windowMs: 1_000, collectibleServers: 1, groupBinds: true, rulesPerServer: 10 }, 2);

const [first, second] = main.cycles as [Cycle, Cycle];
const ideal = (base.members / base.perWindow) * base.windowMs;
const utilisation = (c: Cycle) => (100 * (c.inventory - c.own429)) / ((c.ms / base.windowMs) * base.perWindow);
const [bigFirst, big] = large.cycles as [Cycle, Cycle];
const lines = [
  `| measure | goal | gatepass | naive (1 request per bind, 1 member/s) |`,
  `|---|---|---|---|`,
  `| inventory requests per member per cycle | 1.00 | ${(first.inventory / base.members).toFixed(2)} | ${main.naive?.requestsPerMember.toFixed(2) ?? 'n/a'} |`,
  `| budget utilisation during the backlog | ≥ 95 % | ${utilisation(first).toFixed(1)} % | n/a |`,
  `| 429s provoked | 0 | ${first.own429 + second.own429} | n/a |`,
  `| Discord writes, first cycle | — | ${first.writes} | — |`,
  `| Discord writes, second cycle (no ownership changes) | 0 | ${second.writes} | — |`,
  `| cycle wall time (real-time equivalent) | ideal ${minutes(ideal)} | ${minutes(first.ms)} (${(ideal / first.ms * 100).toFixed(0)} % of ideal speed) | ${main.naive ? minutes(main.naive.projectedMs) + ' (projected)' : 'n/a'} |`,
  `| bot peak RSS (idle after start: ${main.idleRssMb.toFixed(0)} MB) | — | ${first.peakRssMb.toFixed(0)} MB | — |`,
  `| database time / planner time per cycle | — | ${(first.dbMs / 1000).toFixed(1)} s / ${(first.planMs / 1000).toFixed(2)} s | — |`,
  `| N = ${num('large').toLocaleString('en')}: bot peak RSS (idle: ${large.idleRssMb.toFixed(0)} MB) | < 200 MB | ${Math.max(bigFirst.peakRssMb, big.peakRssMb).toFixed(0)} MB | — |`,
  `| N = ${num('large').toLocaleString('en')}: planner + database time, steady cycle | < 10 s | ${((big.planMs + big.dbMs) / 1000).toFixed(1)} s (planner ${(big.planMs / 1000).toFixed(2)} s, database ${(big.dbMs / 1000).toFixed(1)} s; cycle ${(big.ms / 1000).toFixed(0)} s) | — |`,
  `| N = ${num('large').toLocaleString('en')}: the same, first cycle (creates every outcome row) | — | ${((bigFirst.planMs + bigFirst.dbMs) / 1000).toFixed(1)} s (cycle ${(bigFirst.ms / 1000).toFixed(0)} s) | — |`,
];
const [ruledFirst, ruledSteady] = ruled.cycles as [Cycle, Cycle];
const perMember = (requests: number, members: number) => (members > 0 ? requests / members : 0).toFixed(2);
const { collectors, others } = ruledSteady.split;
const ruleLines = [
  `| measure (${rulesMembers.toLocaleString('en')} members; a collectible bind, "at least ${COLLECTOR_COUNT}", in 1 of 3 servers; a group bind "rank ≥ 50" and a rule "group:${BENCH_GROUP}>=200 and …" in another; 10 item binds and 10 rules per server) | goal | gatepass |`,
  `|---|---|---|`,
  `| inventory requests per member per cycle, members of the collectible server (${collectors.members}) | 1 + pages | ${perMember(collectors.requests, collectors.members)} (1 + ${perMember(collectors.collectible, collectors.members)} collectible pages) |`,
  `| inventory requests per member per cycle, other members (${others.members}) | 1.00 | ${perMember(others.requests, others.members)} |`,
  `| inventory requests per member per cycle, everyone | — | ${perMember(ruledSteady.inventory, rulesMembers)} |`,
  `| group membership requests per member of the group-bind server (${ruledSteady.groups.members}), steady cycle | ≤ 1, amortised (50 members a request) | ${perMember(ruledSteady.groups.memberships, ruledSteady.groups.members)} (${ruledSteady.groups.memberships} requests; role reads ${ruledSteady.groups.roles}, first cycle ${ruledFirst.groups.roles}) |`,
  `| members outside it named in group requests | 0 | ${ruledSteady.groups.outside} |`,
  `| planner time per cycle, steady (rules evaluated for every member in every server) | — | ${(ruledSteady.planMs / 1000).toFixed(2)} s (${((ruledSteady.planMs * 1000) / rulesMembers).toFixed(0)} µs per member; first cycle ${(ruledFirst.planMs / 1000).toFixed(2)} s) |`,
];
const command = `npm run bench -- --members ${base.members} --latency ${base.latencyMs} --rate ${base.perWindow} --window ${base.windowMs} --large ${num('large')}${args['rules-members'] ? ` --rules-members ${rulesMembers}` : ''}`;
console.log(lines.join('\n'));
console.log('');
console.log(ruleLines.join('\n'));
if (args.write) {
  writeFileSync(
    new URL('../BENCHMARKS.md', import.meta.url),
    [
      '# Benchmarks',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on the project machine (2 cores), with:`,
      '',
      '```sh',
      command + ' --write',
      '```',
      '',
      `${base.members.toLocaleString('en')} linked members in 3 servers (10 binds each across game passes, badges and assets, drawn from 30 shared items; members in 1 to 3 servers), against the fakes in \`test/fakes\` with ${base.latencyMs} ms Roblox latency. Roblox's budget is ${base.perWindow} requests per ${base.windowMs / 1000} s instead of per minute (time ×${scale.toFixed(0)}), enforced by the fake as by Roblox; Discord's global 50/s is scaled the same way. Times marked real-time equivalent are multiplied back. The bot runs in its own process, as \`npm start\` runs it (bundled, \`node ${nodeFlags.join(' ')}\`), so its memory is what production's would be. The naive strategy is measured on a sample of ${Math.min(num('naive-sample'), base.members)} members with the same Roblox client and budget, and its cycle time projected to ${base.members.toLocaleString('en')}.`,
      '',
      ...lines,
      '',
      ...ruleLines,
      '',
    ].join('\n'),
  );
}
process.exit(0);

/** Member reads per /verify: the profile-code proof, run as a member would, reads counted around the button press. */
async function verifyReads(world: World): Promise<{ reads: number; servers: number }[]> {
  const guildId = (servers: string[]) => servers[0]!;
  const sample = world.toVerify.slice(0, num('verify-sample'));
  const results: { reads: number; servers: number }[] = [];
  for (const member of sample) {
    const started = world.discord.sendCommand(guildId(member.servers), member.discordUserId, 'verify', [{ type: 3, name: 'username', value: member.robloxUserId }]);
    const code = (await world.discord.answer(started, 60_000)).match(/```(.+?)```/)?.[1];
    if (!code) throw new Error('the bench /verify got no code');
    world.roblox.users.get(member.robloxUserId)!.about = code;
    const customId = ((started.message?.components ?? []) as { components?: { custom_id?: string }[] }[]).flatMap((r) => r.components ?? []).find((c) => c.custom_id)!.custom_id!;
    const before = world.discord.memberReads.total();
    await world.discord.answer(world.discord.clickButton(started, member.discordUserId, customId), 60_000);
    results.push({ reads: world.discord.memberReads.total() - before, servers: member.servers.length });
  }
  return results;
}

/** The same population over 1, 100, 1,000 servers: what each /verify and each cycle asks of Discord. */
async function measureServers(counts: number[]): Promise<void> {
  const rows = [
    '| servers | member reads per /verify (goal ≤ servers the member is in + 1) | member reads per cycle (goal ≤ memberships) | reads per member per cycle | cycle time, real-time equivalent (ideal: Roblox budget) |',
    '|---|---|---|---|---|',
  ];
  for (const servers of counts) {
    const p: Population = { ...base, servers, bindsPerServer: 3, spread: true, unlinked: num('verify-sample') };
    console.error(`servers run: ${servers} server(s), ${p.members} members in 1-3 each`);
    const run = await measure(p, 2, verifyReads);
    const verifies = run.after ?? [];
    const worst = verifies.reduce((w, v) => Math.max(w, v.reads - v.servers), -Infinity);
    const mean = verifies.reduce((n, v) => n + v.reads, 0) / Math.max(1, verifies.length);
    const meanServers = verifies.reduce((n, v) => n + v.servers, 0) / Math.max(1, verifies.length);
    const [first, second] = run.cycles as [Cycle, Cycle];
    const ideal = (p.members / p.perWindow) * p.windowMs;
    rows.push(
      `| ${servers.toLocaleString('en')} | ${mean.toFixed(2)} (members in ${meanServers.toFixed(2)} servers on average; worst: servers + ${worst}) | ${first.memberReads} / ${second.memberReads} for ${run.memberships} memberships (first / steady cycle) | ${(first.memberReads / p.members).toFixed(2)} / ${(second.memberReads / p.members).toFixed(2)} | ${minutes(first.ms)} / ${minutes(second.ms)}, ideal ${minutes(ideal)} (${((ideal / first.ms) * 100).toFixed(0)} % / ${((ideal / second.ms) * 100).toFixed(0)} % of ideal speed) |`,
    );
  }
  console.log(`npm run bench -- --members ${base.members} --latency ${base.latencyMs} --rate ${base.perWindow} --window ${base.windowMs} --servers ${counts.join(',')}`);
  console.log(rows.join('\n'));
}
