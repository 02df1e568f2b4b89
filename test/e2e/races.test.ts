import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gate } from '../fakes/roblox';
import { bind, buttonId, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let vip: string;

beforeAll(async () => {
  world = await createWorld();
  vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  world.roblox.addItem('gamepass', '1001', 'VIP Pass');
  world.roblox.addItem('badge', '77', 'Extra Badge');
  await startTestBot(world);
  await bind(world, world.guild.id, vip, 'gamepass', 1001);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  expect(world.logs.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  await destroyWorld(world);
});

const codeOf = (text: string) => text.match(/```(.+?)```/)![1]!;
const inventoryRequests = (robloxUserId: string) => world.roblox.requests.filter((r) => r.route === 'inventory' && r.userId === robloxUserId).length;

test('two members proving the same Roblox account at once: one link survives, consistently', async () => {
  world.roblox.addUser({ id: '6001', name: 'Contested', items: [{ kind: 'gamepass', id: '1001' }] });
  const [first, second] = [newMember(world, world.guild.id, 'first'), newMember(world, world.guild.id, 'second')];
  const starts = [first, second].map((user) => world.discord.sendCommand(world.guild.id, user, 'verify', [opt.string('username', 'Contested')]));
  const codes = await Promise.all(starts.map(async (s) => codeOf(await world.discord.answer(s))));
  world.roblox.users.get('6001')!.about = codes.join(' / ');
  const presses = [first, second].map((user, i) => world.discord.clickButton(starts[i]!, user, buttonId(starts[i]!)));
  await Promise.all(presses.map((p) => world.discord.answer(p)));
  const links = await world.bot!.db.link.findMany({ where: { robloxUserId: '6001' } });
  expect(links).toHaveLength(1);
  const holder = links[0]!.discordUserId;
  const other = holder === first ? second : first;
  await until(() => world.discord.memberRoles(world.guild.id, other).length === 0, 'the other member to hold no bound role');
  expect(world.discord.memberRoles(world.guild.id, holder)).toEqual([vip]);
});

test('a bind removed during a sync stays removed, and its role is left alone afterwards', async () => {
  const extra = world.discord.addRole(world.guild.id, 'Extra', { position: 2 });
  await bind(world, world.guild.id, extra, 'badge', 77);
  world.roblox.addUser({ id: '6003', name: 'Racer', items: [{ kind: 'gamepass', id: '1001' }, { kind: 'badge', id: '77' }] });
  const member = newMember(world, world.guild.id, 'racer');
  await verifyByProfile(world, world.guild.id, member, '6003');
  expect(world.discord.memberRoles(world.guild.id, member).sort()).toEqual([vip, extra].sort());
  world.roblox.take('6003', 'badge', '77');
  // The /update's Roblox read is held until the bind is gone: the check planned with the old bind.
  const held = gate();
  world.roblox.fault = (route, userId) => (route === 'inventory' && userId === '6003' ? { hold: held.promise } : undefined);
  try {
    const asked = inventoryRequests('6003');
    const update = world.discord.sendCommand(world.guild.id, member, 'update');
    await until(() => inventoryRequests('6003') > asked, "the /update's Roblox request to arrive");
    const owner = world.guild.ownerId;
    const remove = world.discord.sendCommand(world.guild.id, owner, 'bind', [opt.sub('remove', [opt.string('type', 'badge'), opt.role('role', extra), opt.integer('id', 77)])]);
    expect(await world.discord.answer(remove)).toContain('Removed');
    held.release();
    await world.discord.answer(update);
  } finally {
    world.roblox.fault = undefined;
    held.release();
  }
  expect(await world.bot!.db.bind.count({ where: { roleId: extra } })).toBe(0);
  // Whatever the in-flight check did with the old bind, later syncs never touch the unbound role.
  world.discord.setMemberRoles(world.guild.id, member, [vip, extra]);
  const writes = world.discord.roleWrites.length;
  await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'update'));
  expect(world.discord.roleWrites.length).toBe(writes);
  expect(world.discord.memberRoles(world.guild.id, member).sort()).toEqual([vip, extra].sort());
});

describe('a link changes only between the checks of the members it affects', () => {
  /** Holds Roblox's inventory answers for one account until the test releases them. */
  function holdInventory(robloxUserId: string) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    world.roblox.fault = (route, userId) => (route === 'inventory' && userId === robloxUserId ? { hold: gate } : undefined);
    return () => {
      world.roblox.fault = undefined;
      release();
    };
  }
  const logged = (message: string, discordUserId: string) => world.logs.some((l) => l.includes(`"msg":"${message}"`) && l.includes(discordUserId));
  /** The change is stored, or waits for the member's lock: either way it has gone as far as it can before Roblox answers. */
  const waited = (discordUserId: string) => logged('a link change waits for a check of the member in flight', discordUserId);
  const changeUnderWay = (stored: () => boolean, discordUserId: string) => () => stored() || waited(discordUserId);
  /** Roles given to `member` once `gone()` holds (they no longer hold the account): each one a perk stolen. */
  function grantsOnceGone(member: string, gone: () => boolean): string[] {
    const late: string[] = [];
    world.discord.fault = (method, template, params) => {
      if (method === 'PUT' && template.endsWith('/roles/{role_id}') && params.user_id === member && gone()) late.push(params.role_id!);
      return undefined;
    };
    return late;
  }
  // A linked bystander: the cycle asking Roblox about them shows its batch is under way.
  beforeAll(async () => {
    world.roblox.addUser({ id: '6012', name: 'Bystander', items: [] });
    await verifyByProfile(world, world.guild.id, newMember(world, world.guild.id, 'bystander'), '6012');
  });

  /**
   * The member's /update waits on Roblox, holding their lock (they have lost the role meanwhile, so
   * it has one to give); a cycle starts and its batch queues behind that lock; then the link change
   * is made and goes as far as it can; then Roblox answers.
   */
  async function interleave(robloxUserId: string, member: string, change: () => Promise<void>) {
    world.discord.setMemberRoles(world.guild.id, member, []);
    const release = holdInventory(robloxUserId);
    try {
      const held = inventoryRequests(robloxUserId);
      const update = world.discord.sendCommand(world.guild.id, member, 'update');
      await until(() => inventoryRequests(robloxUserId) > held, "the /update's Roblox request to arrive");
      // Only that request is held: a check the change itself makes (the new holder's) is answered at
      // once, instead of timing out and retrying a number of times that depends on the machine's load.
      world.roblox.fault = undefined;
      const asked = inventoryRequests('6012');
      const run = world.bot!.runs.runAll('race');
      await until(() => inventoryRequests('6012') > asked, "the cycle's batch to be under way");
      await change();
      release();
      await Promise.all([run, world.discord.answer(update)]);
    } finally {
      world.roblox.fault = undefined;
    }
  }

  test('/unlink while a check of the member waits on Roblox: no role is given for the account once it is let go', async () => {
    world.roblox.addUser({ id: '6010', name: 'Unlinker', items: [{ kind: 'gamepass', id: '1001' }] });
    const member = newMember(world, world.guild.id, 'unlinker');
    await verifyByProfile(world, world.guild.id, member, '6010');
    const unlinked = () => logged('account unlinked', member);
    const late = grantsOnceGone(member, unlinked);
    let unlink: ReturnType<typeof world.discord.sendCommand> | undefined;
    try {
      await interleave('6010', member, async () => {
        unlink = world.discord.sendCommand(world.guild.id, member, 'unlink');
        await until(changeUnderWay(unlinked, member), 'the unlink to be stored or to wait for the check');
      });
      expect(await world.discord.answer(unlink!)).toContain('Unlinked');
    } finally {
      world.discord.fault = undefined;
    }
    expect(late).toEqual([]);
    expect(waited(member)).toBe(true);
    expect(await world.bot!.db.link.findUnique({ where: { discordUserId: member } })).toBeNull();
    expect(await world.bot!.db.outcome.count({ where: { robloxUserId: '6010' } })).toBe(0);
    expect(world.discord.memberRoles(world.guild.id, member)).toEqual([]);
  });

  test("the account moves to someone else's profile-code proof while a check of its holder waits on Roblox: the holder is given nothing for it, the taker gets the role", async () => {
    world.roblox.addUser({ id: '6011', name: 'Mover', items: [{ kind: 'gamepass', id: '1001' }] });
    const [holder, taker] = [newMember(world, world.guild.id, 'holder'), newMember(world, world.guild.id, 'taker')];
    await verifyByProfile(world, world.guild.id, holder, '6011');
    // The taker's proof, up to the button.
    const started = world.discord.sendCommand(world.guild.id, taker, 'verify', [opt.string('username', 'Mover')]);
    world.roblox.users.get('6011')!.about = codeOf(await world.discord.answer(started));
    const moved = () => logged('account linked', taker);
    const late = grantsOnceGone(holder, moved);
    let press: ReturnType<typeof world.discord.clickButton> | undefined;
    try {
      await interleave('6011', holder, async () => {
        press = world.discord.clickButton(started, taker, buttonId(started));
        await until(changeUnderWay(moved, taker), 'the move to be stored or to wait for the check');
      });
      expect(await world.discord.answer(press!)).toContain('Mover');
      await until(() => world.discord.memberRoles(world.guild.id, holder).length === 0, 'the previous holder to lose the role');
    } finally {
      world.discord.fault = undefined;
    }
    expect(late).toEqual([]);
    expect(waited(holder) && waited(taker)).toBe(true);
    expect((await world.bot!.db.link.findUnique({ where: { robloxUserId: '6011' } }))?.discordUserId).toBe(taker);
    const writes = world.discord.roleWrites.filter((w) => w.userId === holder).slice(-1);
    expect(writes.map((w) => [w.method, w.reason])).toEqual([['DELETE', 'gatepass: no linked Roblox account']]);
    expect(world.discord.memberRoles(world.guild.id, taker)).toEqual([vip]);
  });

  test("the account moves while the run's check of its holder waits on Roblox, and no sync follows: the run's pass over unlinked members takes the holder's role", async () => {
    world.roblox.addUser({ id: '6013', name: 'Slipper', items: [{ kind: 'gamepass', id: '1001' }] });
    const [holder, taker] = [newMember(world, world.guild.id, 'slipholder'), newMember(world, world.guild.id, 'sliptaker')];
    await verifyByProfile(world, world.guild.id, holder, '6013');
    world.discord.setMemberRoles(world.guild.id, holder, []); // the run's check has a role to give
    // The run's checks of the holder and of the bystander (the same batch) wait on Roblox.
    const [holding, bystanding] = [gate(), gate()];
    const asked = [inventoryRequests('6013'), inventoryRequests('6012')];
    world.roblox.fault = (route, userId) => (route !== 'inventory' ? undefined : userId === '6013' ? { hold: holding.promise } : userId === '6012' ? { hold: bystanding.promise } : undefined);
    try {
      const run = world.bot!.runs.runAll('race');
      await until(() => inventoryRequests('6013') > asked[0]! && inventoryRequests('6012') > asked[1]!, "the run's Roblox requests to arrive");
      // Stored as a proof stores it, but with none of the syncs after it: as when they fail, or the bot stops first.
      const move = world.bot!.links.save({ discordUserId: taker, robloxUserId: '6013', robloxUsername: 'Slipper', method: 'profile', at: new Date() });
      await until(() => waited(holder), 'the move to wait for the check');
      holding.release(); // the holder's check gives the role for the account it read, then the move is stored
      await move;
      bystanding.release(); // only now is the batch recorded
      await run;
    } finally {
      world.roblox.fault = undefined;
    }
    expect(world.discord.memberRoles(world.guild.id, holder)).toEqual([]);
  });
});

test("stop() lets a join's sync under way finish first: nothing reaches Discord once it has resolved", async () => {
  world.roblox.addUser({ id: '6020', name: 'Rejoiner', items: [{ kind: 'gamepass', id: '1001' }] });
  const member = newMember(world, world.guild.id, 'rejoiner');
  await verifyByProfile(world, world.guild.id, member, '6020');
  world.discord.removeMember(world.guild.id, member);
  // The join's role write is held at Discord, then answered 500: discord.js sends it again.
  const held = gate();
  let attempts = 0;
  let stopped = false;
  const late: string[] = [];
  world.discord.fault = (method, template, params) => {
    if (method !== 'PUT' || !template.endsWith('/roles/{role_id}') || params.user_id !== member) return undefined;
    if (stopped) late.push(params.role_id!);
    return attempts++ === 0 ? { hold: held.promise, status: 500, body: { message: 'Server Error', code: 0 } } : undefined;
  };
  try {
    world.discord.addMember(world.guild.id, member); // back with no roles: the join's sync gives them
    await until(() => attempts > 0, "the join's role write to reach Discord");
    const stopping = world.bot!.stop().then(() => (stopped = true));
    const waits = () => world.logs.some((l) => l.includes('"msg":"stopping: the syncs and commands that events began finish first"'));
    await until(() => stopped || waits(), 'stop() to end, or to wait for the sync');
    held.release();
    await stopping;
    // Given before stop() ended, or by a write sent after it: either way it comes.
    await until(() => world.discord.memberRoles(world.guild.id, member).includes(vip), "the join's role");
  } finally {
    world.discord.fault = undefined;
  }
  expect(late).toEqual([]);
  await startTestBot(world);
});
