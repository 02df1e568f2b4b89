// Launch day: many /verify at once. The fake Roblox holds answers until the test releases them, so
// every interleaving here is forced; the tests assert what members see and what Roblox is sent.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { buttonId, createWorld, destroyWorld, expectCleanRun, newMember, opt, startTestBot, until, type World } from '../harness';
import type { InteractionRecord } from '../fakes/discord';
import { gate } from '../fakes/roblox';

let world: World;

beforeAll(async () => {
  world = await createWorld();
  // Held answers must outlast the members' patience, so Roblox calls here wait long before timing out.
  await startTestBot(world, {}, { robloxHttp: { timeoutMs: 30_000, backoffBaseMs: 20, maxRetryWaitMs: 5_000 } });
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});
beforeEach(() => {
  world.roblox.fault = undefined;
});

let nextId = 7_000_000;
/** A Roblox account and a Discord member who will claim it. */
function player(name: string, extra: { previousNames?: string[]; banned?: boolean } = {}) {
  const robloxId = String(nextId++);
  world.roblox.addUser({ id: robloxId, name, ...extra });
  return { robloxId, member: newMember(world, world.guild.id, `d-${name}`) };
}

const verify = (member: string, username: string) => world.discord.sendCommand(world.guild.id, member, 'verify', [opt.string('username', username)]);
const notices = (record: InteractionRecord) => record.timeline.filter((t) => t.interim).map((t) => t.text);
const lastNotice = (record: InteractionRecord) => notices(record).at(-1) ?? '';
const place = (record: InteractionRecord) => Number(/you are (\d+)(st|nd|rd|th) in line/.exec(lastNotice(record))?.[1] ?? Number.NaN);
const code = (text: string) => /```(.+?)```/.exec(text)?.[1];

/**
 * An opener's lookup is sent and held at Roblox, so a line forms behind it; later lookups are
 * answered normally once `release` is called. `before` counts the lookups sent until then.
 */
async function openLine(opener: string) {
  const before = world.roblox.usernameRequests.length;
  const held = gate();
  let holding = true;
  world.roblox.fault = (route) => {
    if (route !== 'usernames' || !holding) return undefined;
    holding = false;
    return { hold: held.promise };
  };
  const first = verify(player(opener).member, opener);
  await until(() => world.roblox.usernameRequests.length === before + 1, 'the first lookup to be sent');
  return { before, first, release: held.release };
}

describe('a rush of /verify', () => {
  test('is batched up to 100 names, answered in line order, and nobody waits in silence', async () => {
    const { before, first, release } = await openLine('RushOpener');

    const crowd = Array.from({ length: 150 }, (_, i) => player(`Rush${i}`));
    const asks = crowd.map((p, i) => verify(p.member, `rush${i}`)); // any case: Roblox matches case-insensitively
    // Held behind the first request, every member is told their place, each a different one.
    await until(() => asks.every((a) => place(a) > 0), 'every waiting member to be told their place', 20_000);
    expect(asks.map(place).sort((a, b) => a - b)).toEqual(crowd.map((_, i) => i + 1));
    expect(lastNotice(asks[0]!)).toMatch(/^⏳ Roblox is busy — you are \d+(st|nd|rd|th) in line to look up your Roblox account, about \d+ seconds?\./);
    await until(() => lastNotice(first).startsWith('⏳ Asking Roblox now'), 'the member whose lookup is out to hear so');
    expect(asks.filter((a) => a.answered).map((a) => a.timeline)).toEqual([]);

    release();
    const texts = await Promise.all([first, ...asks].map((a) => world.discord.answer(a)));
    for (const [i, text] of texts.entries()) expect(code(text), text).toBeDefined();
    expect(texts[1]).toContain(`**Rush0** (id ${crowd[0]!.robloxId})`);

    // One request for the opener, then the 150 in line order: the first 100 places, then the rest.
    const sent = world.roblox.usernameRequests.slice(before);
    expect(sent.map((names) => names.length)).toEqual([1, 100, 50]);
    const byPlace = [...asks.keys()].sort((a, b) => place(asks[a]!) - place(asks[b]!)).map((i) => `rush${i}`);
    expect(sent[1]).toEqual(byPlace.slice(0, 100));
    expect(sent[2]).toEqual(byPlace.slice(100));
    // The code is the last thing each member sees: no notice lands after the answer.
    for (const a of asks) expect(a.timeline.at(-1)!.interim).toBe(false);
    // Their first response was their place in line (no "thinking…" deferral), then edits.
    expect(asks.every((a) => a.timeline[0]!.kind === 'callback' && a.timeline[0]!.type === 4 && a.timeline[0]!.interim)).toBe(true);
    expect(asks.every((a) => a.callbacks.length === 1 && a.callbacks[0]!.data?.flags === 64)).toBe(true);
  }, 60_000);

  test('one member pressing /verify again and again holds one place and spends no extra lookups', async () => {
    const { before, first, release } = await openLine('SpamOpener');

    const spammer = player('SpamTarget');
    const other = player('Patient');
    const spam = Array.from({ length: 12 }, (_, i) => verify(spammer.member, i % 2 ? 'SpamTarget' : 'spamtarget'));
    const patient = verify(other.member, 'Patient');
    await until(() => place(patient) > 0, 'the other member to be told their place', 20_000);
    release();
    const spamTexts = await Promise.all(spam.map((s) => world.discord.answer(s)));
    await world.discord.answer(first);
    // Exactly one of the spammer's asks is answered with a code; every other one says why not.
    expect(spamTexts.filter((t) => code(t))).toHaveLength(1);
    expect(spamTexts.filter((t) => /You ran \/verify again before this one was answered/.test(t))).toHaveLength(11);
    expect(code(await world.discord.answer(patient))).toBeDefined();
    // Two requests in all: the held one, then one carrying the spammer's single name and the other's.
    const sent = world.roblox.usernameRequests.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.map((n) => n.toLowerCase()).sort()).toEqual(['patient', 'spamtarget']);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: spammer.member } })).toBe(1);
  }, 60_000);
});

describe('answers as today, whatever Roblox does', () => {
  test('previous names answer with the current name, banned and unknown names are not found, in one request', async () => {
    const { before, first, release } = await openLine('NamesOpener');
    const renamed = player('NewName', { previousNames: ['OldName'] });
    const banned = player('BannedOne', { banned: true });
    const asks = [verify(renamed.member, 'OldName'), verify(banned.member, 'BannedOne'), verify(newMember(world, world.guild.id, 'typo'), 'NoSuchPlayer')];
    await until(() => asks.every((a) => place(a) > 0), 'the three to be in line');
    release();
    const [renamedText, bannedText, unknownText] = await Promise.all(asks.map((a) => world.discord.answer(a)));
    await world.discord.answer(first);
    expect(renamedText).toContain(`**NewName** (id ${renamed.robloxId})`);
    expect(bannedText).toMatch(/No Roblox account is named "BannedOne"/);
    expect(unknownText).toMatch(/No Roblox account is named "NoSuchPlayer"/);
    expect(world.roblox.usernameRequests.slice(before)).toHaveLength(2);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: banned.member } })).toBe(0);
  });

  test('a 429 with retry-after is waited out, then everyone in the batch gets their code', async () => {
    const a = player('Retry429A');
    const b = player('Retry429B');
    let left = 1;
    world.roblox.fault = (route) => (route === 'usernames' && left-- > 0 ? { status: 429, body: { errors: [{ code: 0, message: 'Too many requests' }] }, headers: { 'retry-after': '0.2' } } : undefined);
    const asks = [verify(a.member, 'Retry429A'), verify(b.member, 'Retry429B')];
    const texts = await Promise.all(asks.map((x) => world.discord.answer(x)));
    expect(texts.map((t) => code(t) !== undefined)).toEqual([true, true]);
    expect(world.roblox.count('usernames', 429)).toBeGreaterThanOrEqual(1);
  });

  test.each([
    ['5xx on every attempt', { status: 503, body: 'Service Unavailable' }, /Roblox could not be asked just now \(Roblox is unavailable/],
    ['a 200 that is not JSON', { status: 200, body: '<html>oops</html>' }, /Roblox could not be asked just now/],
    ['a 200 of the wrong shape', { status: 200, body: { data: [{ requestedUsername: 'x', id: '12', name: 7 }] } }, /Roblox could not be asked just now/],
  ])('%s: every member in the batch is told, and nothing is stored', async (_name, fault, message) => {
    const a = player(`Bad${nextId}`);
    const b = player(`Bad${nextId}`);
    world.roblox.fault = (route) => (route === 'usernames' ? fault : undefined);
    const asks = [verify(a.member, world.roblox.users.get(a.robloxId)!.name), verify(b.member, world.roblox.users.get(b.robloxId)!.name)];
    for (const text of await Promise.all(asks.map((x) => world.discord.answer(x)))) expect(text).toMatch(message);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: { in: [a.member, b.member] } } })).toBe(0);
  });

  test('a name answered with two different accounts is not guessed; the rest of the batch is answered', async () => {
    const clear = player('ClearName');
    const twice = player('TwiceName');
    world.roblox.fault = (route) =>
      route === 'usernames'
        ? {
            status: 200,
            body: {
              data: [
                { requestedUsername: 'ClearName', hasVerifiedBadge: false, id: Number(clear.robloxId), name: 'ClearName', displayName: 'ClearName' },
                { requestedUsername: 'TwiceName', hasVerifiedBadge: false, id: Number(twice.robloxId), name: 'TwiceName', displayName: 'TwiceName' },
                { requestedUsername: 'TwiceName', hasVerifiedBadge: false, id: 424242, name: 'Impostor', displayName: 'Impostor' },
                { requestedUsername: 'NotAsked', hasVerifiedBadge: false, id: 5, name: 'NotAsked', displayName: 'NotAsked' },
              ],
            },
          }
        : undefined;
    const asks = [verify(clear.member, 'ClearName'), verify(twice.member, 'TwiceName')];
    const [clearText, twiceText] = await Promise.all(asks.map((x) => world.discord.answer(x)));
    expect(clearText).toContain(`**ClearName** (id ${clear.robloxId})`);
    expect(twiceText).toMatch(/Roblox could not be asked just now \(unreadable answer\)|Roblox could not be asked just now/);
    expect(await world.bot!.db.verification.count({ where: { discordUserId: twice.member } })).toBe(0);
  });
});

describe('pressing the button in a rush', () => {
  test('members waiting for their profile read are told their place, then linked in order', async () => {
    const people = Array.from({ length: 4 }, (_, i) => player(`Presser${i}`));
    const started = people.map((p) => verify(p.member, world.roblox.users.get(p.robloxId)!.name));
    const texts = await Promise.all(started.map((s) => world.discord.answer(s)));
    for (const [i, p] of people.entries()) world.roblox.users.get(p.robloxId)!.about = code(texts[i]!)!;

    // Get User is held: the first press is out, the others wait in the users budget's line.
    const held = gate();
    world.roblox.fault = (route) => (route === 'user' ? { hold: held.promise } : undefined);
    const presses = started.map((s, i) => world.discord.clickButton(s, people[i]!.member, buttonId(s)));
    await until(() => presses.filter((p) => place(p) > 0).length === 3, 'three presses to be told their place', 20_000);
    expect(presses.map(place).filter((n) => n > 0).sort()).toEqual([1, 2, 3]);
    expect(presses.map(lastNotice).find((t) => /in line/.test(t))).toMatch(/in line to read your profile/);
    // The press was acknowledged at once (deferred update), before any Roblox answer.
    expect(presses.every((p) => p.callbacks[0]?.type === 6)).toBe(true);
    expect(await world.bot!.db.link.count({ where: { discordUserId: { in: people.map((p) => p.member) } } })).toBe(0);

    held.release();
    for (const p of presses) expect(await world.discord.answer(p)).toContain('Linked');
    expect(await world.bot!.db.link.count({ where: { discordUserId: { in: people.map((p) => p.member) } } })).toBe(4);
  }, 60_000);
});
