import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { buttonId, bind, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let vip: string;
let verifiedRole: string;

beforeAll(async () => {
  world = await createWorld();
  vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  verifiedRole = world.discord.addRole(world.guild.id, 'Verified', { position: 2 });
  world.roblox.addItem('gamepass', '1001', 'VIP Pass');
  world.roblox.addUser({ id: '5001', name: 'PlayerOne', items: [{ kind: 'gamepass', id: '1001' }] });
  world.roblox.addUser({ id: '5002', name: 'PlayerTwo', items: [] });
  world.roblox.addUser({ id: '5003', name: 'PlayerThree', items: [{ kind: 'gamepass', id: '1001' }] });
  await startTestBot(world);
  await bind(world, world.guild.id, vip, 'gamepass', 1001);
  await bind(world, world.guild.id, verifiedRole, 'verified');
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});
beforeEach(() => {
  world.discord.fault = undefined;
  world.roblox.fault = undefined;
});

const link = (discordUserId: string) => world.bot!.db.link.findUnique({ where: { discordUserId } });

describe('/verify with a profile code', () => {
  test('links only after the code is in the profile, then grants roles at once with an audit reason', async () => {
    const member = newMember(world, world.guild.id, 'alice');
    const started = world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', 'playerone')]);
    const text = await world.discord.answer(started);
    expect(text).toContain('**PlayerOne** (id 5001)');
    expect(started.callbacks[0]?.data?.flags).toBe(64); // ephemeral
    const code = text.match(/```(.+?)```/)![1]!;
    expect(await link(member)).toBeNull();

    // Pressing before the code is saved: told so, nothing linked, button kept for a retry.
    const early = world.discord.clickButton(started, member, buttonId(started));
    expect(await world.discord.answer(early)).toContain('not in the About');
    expect(await link(member)).toBeNull();
    expect(world.discord.memberRoles(world.guild.id, member)).toEqual([]);

    world.roblox.users.get('5001')!.about = `Hello there\n${code.toUpperCase()}`;
    const done = world.discord.clickButton(started, member, buttonId(started));
    const reply = await world.discord.answer(done);
    expect(reply).toContain('Linked');
    expect(reply).toContain(`Roles given: <@&${vip}>, <@&${verifiedRole}>`);
    expect(await link(member)).toMatchObject({ robloxUserId: '5001', robloxUsername: 'PlayerOne' });
    expect(world.discord.memberRoles(world.guild.id, member).sort()).toEqual([vip, verifiedRole].sort());
    const writes = world.discord.roleWrites.filter((w) => w.userId === member);
    expect(writes.map((w) => w.reason)).toEqual(expect.arrayContaining(['gatepass: Roblox PlayerOne has game pass VIP Pass (1001)', 'gatepass: Roblox PlayerOne has linked Roblox account']));
    expect(writes.every((w) => w.method === 'PUT' && w.status === 204)).toBe(true);
  });

  test('a code works once: pressing the spent button again links nothing new', async () => {
    const member = newMember(world, world.guild.id, 'bob');
    const started = world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', 'PlayerTwo')]);
    const code = (await world.discord.answer(started)).match(/```(.+?)```/)![1]!;
    world.roblox.users.get('5002')!.about = code;
    const customId = buttonId(started);
    const linked = await world.discord.answer(world.discord.clickButton(started, member, customId));
    expect(linked).toContain('Linked');
    // PlayerTwo owns no pass: the reply says why VIP was not given.
    expect(linked).toContain(`❌ <@&${vip}> ← game pass VIP Pass (1001): does not own`);
    expect(started.message?.components).toEqual([]); // the button is gone from the message
    // Replaying the spent custom id (a hostile client could) links nothing.
    const again = world.discord.clickButton(started, member, customId);
    expect(await world.discord.answer(again)).toMatch(/already used or replaced/);
  });

  test('impersonation: pressing someone else’s button does nothing for the presser', async () => {
    const victim = newMember(world, world.guild.id, 'carol');
    const attacker = newMember(world, world.guild.id, 'mallory');
    const started = world.discord.sendCommand(world.guild.id, victim, 'verify', [opt.string('username', 'PlayerThree')]);
    const code = (await world.discord.answer(started)).match(/```(.+?)```/)![1]!;
    world.roblox.users.get('5003')!.about = code;
    const stolen = world.discord.clickButton(started, attacker, buttonId(started));
    expect(await world.discord.answer(stolen)).toContain("belongs to someone else's verification");
    expect(stolen.callbacks[0]?.data?.flags).toBe(64);
    expect(await link(attacker)).toBeNull();
    expect(await link(victim)).toBeNull();
    expect(world.discord.memberRoles(world.guild.id, attacker)).toEqual([]);
    // The real owner can still finish.
    expect(await world.discord.answer(world.discord.clickButton(started, victim, buttonId(started)))).toContain('Linked');
    expect(await link(victim)).toMatchObject({ robloxUserId: '5003' });
  });

  test('an expired code links nothing', async () => {
    const member = newMember(world, world.guild.id, 'dave');
    world.roblox.addUser({ id: '5004', name: 'PlayerFour' });
    const started = world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', '5004')]);
    const code = (await world.discord.answer(started)).match(/```(.+?)```/)![1]!;
    world.roblox.users.get('5004')!.about = code;
    await world.bot!.db.verification.updateMany({ where: { discordUserId: member }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await world.discord.answer(world.discord.clickButton(started, member, buttonId(started)))).toContain('expired');
    expect(await link(member)).toBeNull();
    expect(await world.bot!.db.verification.count({ where: { discordUserId: member } })).toBe(0);
  });

  test('a fresh proof moves the account; the previous holder loses bound roles', async () => {
    const first = newMember(world, world.guild.id, 'erin');
    const second = newMember(world, world.guild.id, 'frank');
    world.roblox.addUser({ id: '5005', name: 'SharedAccount', items: [{ kind: 'gamepass', id: '1001' }] });
    await verifyByProfile(world, world.guild.id, first, '5005');
    expect(world.discord.memberRoles(world.guild.id, first).sort()).toEqual([vip, verifiedRole].sort());
    await verifyByProfile(world, world.guild.id, second, '5005');
    expect(await link(first)).toBeNull();
    expect(await link(second)).toMatchObject({ robloxUserId: '5005' });
    await until(() => world.discord.memberRoles(world.guild.id, first).length === 0, 'previous holder to lose roles');
    expect(world.discord.memberRoles(world.guild.id, second).sort()).toEqual([vip, verifiedRole].sort());
    const revoked = world.discord.roleWrites.filter((w) => w.userId === first && w.method === 'DELETE');
    expect(revoked.map((w) => w.reason)).toEqual(['gatepass: no linked Roblox account', 'gatepass: no linked Roblox account']);
  });

  test.each([
    ['a malformed username', 'not a name!', /3 to 20 letters/],
    ['an unknown username', 'NobodyHere', /No Roblox account is named "NobodyHere"/],
    ['an unknown id', '987654321', /No Roblox account has the id 987654321/],
    ['id 0', '0', /not a valid Roblox user id/],
    ['an absurd id', '99999999999999999999', /not a valid Roblox user id/],
  ])('%s gets a clear ephemeral error and stores nothing', async (_name, input, message) => {
    const member = newMember(world, world.guild.id, 'typo');
    const reply = world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', input)]);
    expect(await world.discord.answer(reply)).toMatch(message);
    expect(reply.callbacks[0]?.data?.flags).toBe(64);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: member } })).toBe(0);
  });

  test('Roblox down during /verify: says so, stores nothing', async () => {
    const member = newMember(world, world.guild.id, 'grace');
    world.roblox.fault = (route) => (route === 'usernames' ? { status: 503, body: 'Service Unavailable' } : undefined);
    const reply = world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', 'PlayerOne')]);
    expect(await world.discord.answer(reply)).toMatch(/Roblox could not be asked just now.*try again/);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: member } })).toBe(0);
  });

  test('a renamed Roblox account: the stored name is refreshed when /verify next reads it', async () => {
    world.roblox.addUser({ id: '5009', name: 'OldName', items: [] });
    const member = newMember(world, world.guild.id, 'renamer');
    await verifyByProfile(world, world.guild.id, member, '5009');
    expect((await link(member))?.robloxUsername).toBe('OldName');
    world.roblox.users.get('5009')!.name = 'NewName';
    const again = await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', '5009')]));
    expect(again).toContain('already linked to **NewName**');
    expect((await link(member))?.robloxUsername).toBe('NewName');
  });

  test('no username: explains what to do', async () => {
    const member = newMember(world, world.guild.id, 'heidi');
    expect(await world.discord.answer(world.discord.sendCommand(world.guild.id, member, 'verify'))).toMatch(/verify username:/);
  });
});
