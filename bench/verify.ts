// `npm run bench:verify`: launch day. N members run `/verify username:<name>` spread over a minute,
// in real time, through the real bot (its own process, bundled as `npm start` runs it) and the fakes;
// each puts the code in their profile and presses the button as soon as they see it. Prints the time
// to the first visible answer and to the code, the time until every member is linked, and the
// username requests per /verify.
//
//   npm run bench:verify -- --members 1000 --over 60 --latency 80

import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bundle } from '../build.mjs';
import { openDatabase } from '../src/database/client';
import { WAITING_MARK } from '../src/waiting';
import type { InteractionRecord } from '../test/fakes/discord';
import { buildWorld } from './population';

const { values: args } = parseArgs({
  options: {
    members: { type: 'string', default: '1000' },
    over: { type: 'string', default: '60' },
    latency: { type: 'string', default: '80' },
    /** ROBLOX_USERNAMES_RATE_LIMIT for the run; the bot's default when unset. */
    usernames: { type: 'string' },
  },
});
const members = Number(args.members);
const overMs = Number(args.over) * 1000;
const latencyMs = Number(args.latency);

await bundle({ 'bench-bot': 'bench/bot-process.ts' });
const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start;
const nodeFlags = startScript.split(' ').filter((word) => word.startsWith('--'));

// One server with three binds; members not linked yet, each with a Roblox account of their own.
const world = await buildWorld({ members: 0, servers: 1, bindsPerServer: 3, ownership: 0.3, preassigned: false, latencyMs, perWindow: 100, windowMs: 60_000 });
world.discord.interim = (text) => text.startsWith(WAITING_MARK);
const guild = world.servers[0]!.guild;
const people = Array.from({ length: members }, (_, i) => {
  const discordUserId = world.discord.addUser(`v${i}`);
  guild.members.set(discordUserId, { roles: [], joinedAt: new Date().toISOString() });
  const robloxUserId = String(2_000_000 + i);
  world.roblox.addUser({ id: robloxUserId, name: `Verify${i}`, items: i % 3 === 0 ? [world.servers[0]!.binds[0]!.item] : [] });
  return { discordUserId, robloxUserId, name: `Verify${i}` };
});
const config = { ...world.config, ...(args.usernames ? { robloxUsernamesRateLimit: Number(args.usernames) } : {}) };

const child = fork('dist/bench-bot.mjs', [JSON.stringify({ config, windowMs: 60_000, discordGlobalPerSecond: 50 })], {
  execArgv: nodeFlags,
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
await new Promise((resolve) => child.once('message', resolve));
console.error(`bot up; ${members} members run /verify over ${overMs / 1000} s (Roblox latency ${latencyMs} ms, usernames budget ${config.robloxUsernamesRateLimit}/min)`);

interface Flow {
  person: (typeof people)[number];
  verify?: InteractionRecord;
  firstMs?: number;
  codeMs?: number;
  noticeSeen: boolean;
  failed?: string;
}
const flows: Flow[] = people.map((person) => ({ person, noticeSeen: false }));
const startedAt = Date.now();
let launched = 0;
const launcher = setInterval(() => {
  const due = Math.min(members, Math.floor(((Date.now() - startedAt) / overMs) * members) + 1);
  for (; launched < due; launched++) {
    const flow = flows[launched]!;
    flow.verify = world.discord.sendCommand(guild.id, flow.person.discordUserId, 'verify', [{ type: 3, name: 'username', value: flow.person.name }]);
  }
  if (launched === members) clearInterval(launcher);
}, 10);

/** Each member acts on what they see: the code goes into the profile, then the button is pressed. */
function watch(flow: Flow): void {
  const record = flow.verify;
  if (!record || flow.codeMs !== undefined || flow.failed) return;
  // What the member can read: a message (type 4) or an edit; "thinking…" (type 5) is not an answer.
  const visible = record.timeline.filter((t) => t.kind === 'edit' || t.type === 4);
  if (visible.length > 0 && flow.firstMs === undefined) flow.firstMs = visible[0]!.at - record.receivedAt;
  if (visible.some((e) => e.interim)) flow.noticeSeen = true;
  const answer = visible.find((e) => !e.interim);
  if (!answer) return;
  const code = /```(.+?)```/.exec(answer.text)?.[1];
  if (!code) {
    flow.failed = answer.text;
    return;
  }
  flow.codeMs = answer.at - record.receivedAt;
  world.roblox.users.get(flow.person.robloxUserId)!.about = code;
  const button = (record.message!.components as { components: { custom_id: string }[] }[])[0]!.components[0]!.custom_id;
  world.discord.clickButton(record, flow.person.discordUserId, button);
}

const db = openDatabase(config.databaseUrl);
let linkedAt: number | undefined;
const deadline = startedAt + overMs + 5 * 60_000;
while (linkedAt === undefined && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
  for (const flow of flows) watch(flow);
  const linked = await db.link.count().catch(() => -1);
  if (linked === members) linkedAt = Date.now();
}
await db.$disconnect();
child.send({ stop: true });
await new Promise((resolve) => child.once('exit', resolve));
await Promise.all([world.discord.close(), world.roblox.close()]);
rmSync(world.dir, { recursive: true, force: true });

const percentiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `${s(at(50))} / ${s(at(99))} / ${s(sorted.at(-1) ?? Number.NaN)}`;
};
const failed = flows.filter((f) => f.failed);
const lookups = world.roblox.usernameRequests;
const lines = [
  `| measure (N = ${members.toLocaleString('en')} over ${overMs / 1000} s) | goal | gatepass |`,
  `|---|---|---|`,
  `| time to the first visible answer, p50 / p99 / max | p99 < 3 s | ${percentiles(flows.flatMap((f) => (f.firstMs === undefined ? [] : [f.firstMs])))} |`,
  `| time to the code, p50 / p99 / max | p99 < 10 s | ${percentiles(flows.flatMap((f) => (f.codeMs === undefined ? [] : [f.codeMs])))} |`,
  `| time until every member is linked (from the first /verify) | < 2 min | ${linkedAt === undefined ? 'not reached' : `${((linkedAt - startedAt) / 1000).toFixed(1)} s`} |`,
  `| username requests per /verify | ≤ 0.02 | ${(lookups.length / members).toFixed(3)} (${lookups.length} requests, largest ${Math.max(0, ...lookups.map((l) => l.length))} names) |`,
  `| members shown their place in line before the code | — | ${flows.filter((f) => f.noticeSeen).length} |`,
  `| /verify answered with an error | 0 | ${failed.length}${failed[0] ? ` (first: ${failed[0].failed!.slice(0, 80)})` : ''} |`,
  `| spec violations seen by the fakes | 0 | ${world.discord.specErrors.length + world.roblox.specErrors.length} |`,
];
console.log(lines.join('\n'));
process.exit(0);
