// Every command handler fed malformed interaction payloads, as a hostile or buggy client could
// send them: wrong option types, missing and extra options, huge strings, unknown subcommands,
// ids past 2^53. Each must get a clear answer: never silence, never the generic failure.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { COMMANDS } from '../../commands/index';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, type World } from '../harness';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
let state = SEED;
const random = () => {
  state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
  return state / 2 ** 31;
};
const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

let world: World;
let vip: string;

beforeAll(async () => {
  world = await createWorld();
  vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  world.roblox.addItem('gamepass', '1001', 'VIP Pass');
  const { startTestBot } = await import('../harness');
  await startTestBot(world);
  await bind(world, world.guild.id, vip, 'gamepass', 1001);
  console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx vitest run test/e2e/fuzz.test.ts)`);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const NAMES = ['type', 'role', 'id', 'member', 'username', 'add', 'remove', 'list', 'bogus', ''];
const values = () => [
  'x'.repeat(10_000),
  '',
  '🦊'.repeat(50),
  2 ** 60,
  -1,
  0,
  1.5,
  Number.MAX_SAFE_INTEGER + 2,
  '9'.repeat(40),
  true,
  null,
  { nested: 1 },
  [1, 2],
  vip,
  'gamepass',
  'verified',
  world.guild.ownerId,
];

function hostileOption(depth = 0): Record<string, unknown> {
  const type = pick([1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 99, -1]);
  const option: Record<string, unknown> = { type, name: pick(NAMES) };
  if (type === 1 || type === 2) {
    if (depth < 2 && random() < 0.8) option.options = Array.from({ length: Math.floor(random() * 4) }, () => hostileOption(depth + 1));
  } else if (random() < 0.9) {
    option.value = pick(values());
  }
  return option;
}

type OptionDefinition = { type: number; name: string; options?: OptionDefinition[]; choices?: { value: unknown }[] };

/** Mostly-right options built from a command's own definition, then bent: a type swapped, a value out of range. */
function mutatedOptions(definitions: OptionDefinition[]): Record<string, unknown>[] {
  const subcommands = definitions.filter((d) => d.type === 1);
  if (subcommands.length > 0) {
    const sub = random() < 0.1 ? { type: 1, name: 'bogus', options: [] } : pick(subcommands);
    return [{ type: 1, name: sub.name, options: mutatedOptions(sub.options ?? []) }];
  }
  const out: Record<string, unknown>[] = [];
  for (const d of definitions) {
    if (random() < 0.15) continue;
    const type = random() < 0.15 ? pick([3, 4, 5, 6, 8, 10]) : d.type;
    const pools: Record<number, unknown[]> = {
      3: [...(d.choices?.map((c) => c.value) ?? []), 'PlayerOne', 'x'.repeat(5_000), '', '12345', '-1', ' spaced name '],
      4: [1, 1001, 0, -5, 2 ** 53, 2 ** 60, 1.5, Number.MAX_SAFE_INTEGER],
      6: [world.guild.ownerId, '1' + '0'.repeat(18), '9'.repeat(40)],
      8: [vip, world.guild.id, '1' + '0'.repeat(18), '9'.repeat(40)],
    };
    out.push({ type, name: d.name, value: pick(pools[type] ?? values()) });
  }
  if (random() < 0.1) out.push(hostileOption());
  return out;
}

test('200 malformed payloads across every command: each gets a clear, ephemeral answer', async () => {
  const member = newMember(world, world.guild.id, 'fuzzer');
  const users = [world.guild.ownerId, member];
  const generic: string[] = [];
  for (let i = 0; i < 200; i++) {
    const command = pick([...COMMANDS.map((c) => c.definition.name), 'unknowncmd']);
    const definition = COMMANDS.find((c) => c.definition.name === command)?.definition;
    const options =
      definition && random() < 0.6
        ? mutatedOptions((definition.options ?? []) as OptionDefinition[])
        : Array.from({ length: Math.floor(random() * 4) }, () => hostileOption());
    const record = world.discord.sendCommand(world.guild.id, pick(users), command, options);
    const text = await world.discord.answer(record, 10_000);
    if (process.env.FUZZ_SHOW) console.log(command, '→', text.slice(0, 90).replace(/\n/g, ' '));
    if (text.includes('Something went wrong') || text.trim() === '') generic.push(`${command} ${JSON.stringify(options).slice(0, 300)} → ${text.slice(0, 120)}`);
    expect(record.callbacks[0]?.data?.flags).toBe(64);
  }
  expect(generic).toEqual([]);
  expect(world.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  // Nothing malformed was stored.
  for (const b of await world.bot!.db.bind.findMany()) {
    expect(b.itemId === '' || (/^\d+$/.test(b.itemId) && Number.isSafeInteger(Number(b.itemId)))).toBe(true);
  }
  expect(await world.bot!.db.verification.count({ where: { robloxUsername: { contains: 'x'.repeat(50) } } })).toBe(0);
});

test('a malformed button press gets a clear answer too', async () => {
  const member = newMember(world, world.guild.id, 'presser');
  const base = world.discord.sendCommand(world.guild.id, member, 'bind', [{ type: 1, name: 'list' }]);
  await world.discord.answer(base);
  for (const customId of ['verify:', 'verify:nope', 'nothing', ':', 'verify:' + 'x'.repeat(90), 'other:thing']) {
    const press = world.discord.clickButton(base, member, customId);
    expect(await world.discord.answer(press)).toMatch(/no longer in use|already used or replaced/);
  }
});
