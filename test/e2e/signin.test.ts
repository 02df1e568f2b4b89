// Sign in with Roblox end to end: the real bot and its HTTP server, the fake Roblox OAuth server,
// and a real headless Chromium following the redirects and reading the pages.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Clock } from '../../src/clock';
import { freePort, inContext, launchBrowser } from '../browser';
import { type InteractionRecord, messageText } from '../fakes/discord';
import { gate } from '../fakes/roblox';
import { bind, createWorld, destroyWorld, expectCleanRun, linkUrl, newMember, OAUTH_CLIENT, opt, startTestBot, until, verifyByProfile, withOAuth, type World } from '../harness';

let world: World;
let browser: Browser;
let port: number;
const roles = { vip: '', server: '' };
const PASS = 4401;
const PRIVATE_SERVER = 7707;
// The bot's clock runs ahead when a test needs state or access tokens to expire.
let ahead = 0;
const clock: Clock = { now: () => Date.now() + ahead, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

beforeAll(async () => {
  [world, browser, port] = await Promise.all([createWorld(), launchBrowser(), freePort()]);
  roles.vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  roles.server = world.discord.addRole(world.guild.id, 'Private Server Owner', { position: 2 });
  world.roblox.addItem('gamepass', String(PASS), 'VIP Pass');
  // Roblox calls wait long before timing out, so an answer held by a test outlasts a member's patience.
  await startTestBot(world, withOAuth(world, port), { clock, robloxHttp: { timeoutMs: 30_000, backoffBaseMs: 20, maxRetryWaitMs: 5_000 } });
  await bind(world, world.guild.id, roles.vip, 'gamepass', PASS);
  await bind(world, world.guild.id, roles.server, 'privateserver', PRIVATE_SERVER);
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await browser?.close();
  await destroyWorld(world);
});

const has = (user: string) => world.discord.memberRoles(world.guild.id, user).sort();
const link = (discordUserId: string) => world.bot!.db.link.findUnique({ where: { discordUserId } });

/** A member and their Roblox account (private inventory, owning the pass and the private server). */
function member(name: string, robloxId: string, inventoryPublic = false): string {
  world.roblox.addUser({ id: robloxId, name: `${name}_rbx`, inventoryPublic, items: [{ kind: 'gamepass', id: String(PASS) }, { kind: 'privateserver', id: String(PRIVATE_SERVER) }] });
  return newMember(world, world.guild.id, name);
}

/** /verify with no username: the ephemeral reply and its sign-in link. */
async function startSignIn(discordUserId: string) {
  world.discord.oauth.browserUser = discordUserId; // their own browser, logged in to Discord as them
  const record = world.discord.sendCommand(world.guild.id, discordUserId, 'verify');
  const text = await world.discord.answer(record);
  return { record, text, url: linkUrl(record) };
}

/** Opens the link, checks whose it says it is, and continues to Roblox; returns the final page. */
async function continueToRoblox(page: Page, url: string, requester: string): Promise<{ title: string; text: string }> {
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  expect(await page.textContent('body')).toContain(`Discord user ${requester}`);
  await Promise.all([page.waitForURL(/\/oauth\/callback/), page.click('button[value=continue]')]);
  return { title: await page.title(), text: (await page.textContent('body')) ?? '' };
}

/** Roblox's consent page for this sign-in as a thief would ask for it: the state, and no PKCE. */
function authorizeWithoutPkce(state: string): string {
  const authorize = new URL('/oauth/v1/authorize', world.roblox.url);
  authorize.search = new URLSearchParams({ client_id: OAUTH_CLIENT.id, redirect_uri: `http://127.0.0.1:${port}/oauth/callback`, scope: 'openid profile user.inventory-item:read', response_type: 'code', state }).toString();
  return authorize.toString();
}

const withContext = <T,>(use: (page: Page, context: BrowserContext) => Promise<T>) => inContext(browser, use);

describe('Sign in with Roblox', () => {
  let alice = '';

  test('a private inventory: unknown with the API key, read with the member\'s own token after sign-in', async () => {
    alice = member('alice', '5001');
    // First linked with a profile code: the API key gets 403, so nothing is given and nothing guessed.
    await verifyByProfile(world, world.guild.id, alice, '5001');
    expect(has(alice)).toEqual([]);
    expect(world.roblox.requests.some((r) => r.route === 'inventory' && r.userId === '5001' && r.hadApiKey && r.status === 403)).toBe(true);
    const check = await world.discord.answer(world.discord.sendCommand(world.guild.id, world.guild.ownerId, 'check', [opt.user('member', alice)]));
    expect(check).toMatch(/❔ <@&\d+> ← game pass VIP Pass \(4401\): unknown: inventory is private/);
    expect(check).toMatch(/private servers can be checked only for members who signed in with Roblox|needs the member to sign in/);

    const { text, url, record } = await startSignIn(alice);
    expect(text).toMatch(/Sign in with Roblox|sign in with Roblox/);
    expect(text).toMatch(/\/verify username:/); // the profile-code way stays for under-13s
    expect(url.startsWith(`http://127.0.0.1:${port}/oauth/start?state=`)).toBe(true);

    world.roblox.oauth.browserUser = '5001';
    const final = await withContext((page) => continueToRoblox(page, url, 'alice'));
    expect(final.title).toContain('Linked to alice_rbx — you can close this tab');

    await until(() => has(alice).length === 2, 'roles from the member token');
    expect(has(alice)).toEqual([roles.vip, roles.server].sort());
    const stored = await link(alice);
    expect(stored).toMatchObject({ robloxUserId: '5001', method: 'oauth' });
    // The reply the member is looking at says so too.
    await until(() => (record.message ? messageText(record.message) : '').includes('Linked'), 'the /verify reply to be updated');
    expect(messageText(record.message!)).toContain('alice_rbx');
    expect(record.message!.components).toEqual([]);
    // Inventory read with the member's token, never the key, once signed in; PKCE and state checked by the fake.
    const afterSignIn = world.roblox.requests.filter((r) => r.route === 'inventory' && r.userId === '5001' && r.bearerFor === '5001');
    expect(afterSignIn.length).toBeGreaterThan(0);
    expect(afterSignIn.every((r) => r.status === 200 && !r.hadApiKey)).toBe(true);
    expect(afterSignIn.some((r) => r.query.filter?.includes(`privateServerIds=${PRIVATE_SERVER}`))).toBe(true);
    // The fake would issue a code without PKCE too (a confidential client may ask so): the bot never does.
    expect([...world.roblox.oauth.codes.values()].every((c) => c.challenge !== undefined)).toBe(true);
    // The refresh token is stored sealed: none of Roblox's tokens appear in the database.
    const grant = await world.bot!.db.oAuthGrant.findUnique({ where: { discordUserId: alice } });
    expect(grant?.status).toBe('active');
    for (const token of world.roblox.oauth.refreshTokens.keys()) expect(grant!.refreshToken).not.toContain(token);
    const check2 = await world.discord.answer(world.discord.sendCommand(world.guild.id, world.guild.ownerId, 'check', [opt.user('member', alice)]));
    expect(check2).toMatch(/Sign in with Roblox; consent current/);
    expect(check2).toMatch(/✅ <@&\d+> ← game pass VIP Pass \(4401\): owns/);
    expect(check2).toMatch(/✅ <@&\d+> ← private server 7707: owns/);
  });

  test('a link opened by someone else: they are told whose it is, and "This isn\'t me" links nothing', async () => {
    const bob = member('bob', '5002');
    world.roblox.addUser({ id: '5999', name: 'mallory_rbx' });
    const { url, record } = await startSignIn(bob);
    world.roblox.oauth.browserUser = '5999';
    await withContext(async (page) => {
      await page.goto(url);
      expect(await page.textContent('body')).toContain('Only continue if you are bob');
      await page.click('button[value=cancel]');
      expect(await page.textContent('h1')).toBe('Nothing was linked');
      // The link is dead now, for anyone.
      const again = await page.goto(url);
      expect(again?.status()).toBe(410);
    });
    expect(await link(bob)).toBeNull();
    await until(() => (record.message ? messageText(record.message) : '').includes('cancelled'), 'the requester to be told');
  });

  test('a link opened by a different Discord user who continues anyway: Discord says whose browser it is, nothing is linked', async () => {
    const hank = member('hank', '5008');
    const intruder = newMember(world, world.guild.id, 'intruder');
    world.roblox.addUser({ id: '5998', name: 'intruder_rbx' });
    const { url, record } = await startSignIn(hank);
    world.discord.oauth.browserUser = intruder;
    world.roblox.oauth.browserUser = '5998';
    const codesBefore = world.roblox.oauth.codes.size;
    await withContext(async (page) => {
      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      await Promise.all([page.waitForURL(/\/oauth\/discord/), page.click('button[value=continue]')]);
      expect(await page.title()).toContain('This link was made for another Discord account');
      expect(await page.textContent('body')).toContain('Nothing was linked');
      expect((await page.goto(url))?.status()).toBe(410); // and the link is dead
    });
    expect(world.roblox.oauth.codes.size).toBe(codesBefore); // Roblox was never asked
    expect(await link(hank)).toBeNull();
    expect(await link(intruder)).toBeNull();
    await until(() => (record.message ? messageText(record.message) : '').includes('opened by a different Discord account'), 'the requester to be told');
  });

  test('a link leaked after Discord confirmed its owner: Continue elsewhere needs Discord again, and going to Roblox without PKCE links nothing', async () => {
    const ivy = member('ivy', '5010');
    world.roblox.addUser({ id: '5990', name: 'thief_rbx' });
    const { url, record } = await startSignIn(ivy);
    const state = new URL(url).searchParams.get('state')!;
    const base = `http://127.0.0.1:${port}`;
    // Ivy continues and Discord confirms her browser; she has not answered Roblox yet.
    await withContext(async (page, context) => {
      await page.goto(url);
      const toDiscord = await context.request.post(`${base}/oauth/start`, { form: { state, action: 'continue' }, maxRedirects: 0 });
      const fromDiscord = (await context.request.get(toDiscord.headers().location!, { maxRedirects: 0 })).headers().location!;
      const toRoblox = await context.request.get(fromDiscord, { maxRedirects: 0 });
      expect(toRoblox.headers().location).toContain('/oauth/v1/authorize');
    });
    expect((await world.bot!.db.oAuthState.findUnique({ where: { state } }))?.discordChecked).toBe(true);

    // The thief has the link: Continue binds the sign-in to their browser, and they skip Discord
    // for Roblox's authorize page with the state and no PKCE, which Roblox accepts from this client.
    world.discord.oauth.browserUser = undefined;
    world.roblox.oauth.browserUser = '5990';
    const exchanges = world.roblox.count('token');
    await withContext(async (page, context) => {
      await page.goto(url);
      expect((await context.request.post(`${base}/oauth/start`, { form: { state, action: 'continue' }, maxRedirects: 0 })).status()).toBe(303);
      await page.goto(authorizeWithoutPkce(state));
      expect(page.url()).toContain('/oauth/callback?code=');
      expect(await page.title()).toContain('Discord has not confirmed this browser');
    });
    expect([...world.roblox.oauth.codes.values()].some((c) => c.userId === '5990' && c.challenge === undefined)).toBe(true); // Roblox issued a code...
    expect(world.roblox.count('token')).toBe(exchanges); // ...which the bot never exchanged
    expect(await link(ivy)).toBeNull();
    expect(messageText(record.message!)).not.toContain('thief_rbx');
  });

  test('a Continue pressed elsewhere while Discord is confirming the owner: the confirmation does not pass to that browser', async () => {
    const jade = member('jade', '5011');
    world.roblox.addUser({ id: '5991', name: 'racer_rbx' });
    const { url } = await startSignIn(jade);
    const state = new URL(url).searchParams.get('state')!;
    const base = `http://127.0.0.1:${port}`;
    let release = () => {};
    await withContext(async (page, context) => {
      await page.goto(url);
      const toDiscord = await context.request.post(`${base}/oauth/start`, { form: { state, action: 'continue' }, maxRedirects: 0 });
      const fromDiscord = (await context.request.get(toDiscord.headers().location!, { maxRedirects: 0 })).headers().location!;
      // Discord's answer about Jade's browser is held until the thief has pressed Continue.
      world.discord.oauth.hold = new Promise((resolve) => (release = resolve));
      const asked = world.discord.oauth.exchanges;
      const confirming = context.request.get(fromDiscord, { maxRedirects: 0 });
      try {
        await until(() => world.discord.oauth.exchanges > asked, 'the bot to ask Discord');
        await withContext(async (thiefPage, thief) => {
          await thiefPage.goto(url);
          expect((await thief.request.post(`${base}/oauth/start`, { form: { state, action: 'continue' }, maxRedirects: 0 })).status()).toBe(303);
          release();
          expect((await confirming).status()).toBe(403); // Jade's confirmation was for a cookie no longer bound
          world.roblox.oauth.browserUser = '5991';
          await thiefPage.goto(authorizeWithoutPkce(state));
          expect(await thiefPage.title()).toContain('Discord has not confirmed this browser');
        });
      } finally {
        world.discord.oauth.hold = undefined;
        release();
      }
    });
    expect(await link(jade)).toBeNull();
  });

  test('a callback replayed in another browser links nothing and does not spend the sign-in', async () => {
    const carol = member('carol', '5003');
    const { url } = await startSignIn(carol);
    world.roblox.oauth.browserUser = '5003';
    await withContext(async (page, context) => {
      // Follow the redirects one at a time with the browser's own cookie jar, stopping at the callback.
      await page.goto(url);
      const state = new URL(url).searchParams.get('state')!;
      const toDiscord = await context.request.post(`http://127.0.0.1:${port}/oauth/start`, { form: { state, action: 'continue' }, maxRedirects: 0 });
      expect(toDiscord.status()).toBe(303);
      let next = toDiscord.headers().location!;
      while (!next.includes('/oauth/callback')) next = (await context.request.get(next, { maxRedirects: 0 })).headers().location!;
      const callback = next;
      expect(callback).toContain('/oauth/callback?code=');

      const elsewhere = await withContext(async (other) => {
        const response = await other.goto(callback);
        return { status: response?.status(), title: await other.title() };
      });
      expect(elsewhere.status).toBe(400);
      expect(elsewhere.title).toContain('started in another browser');
      expect(await link(carol)).toBeNull();

      // The browser that started it can still finish it; then the state is spent for good.
      await page.goto(callback);
      expect(await page.title()).toContain('Linked to carol_rbx');
      const replay = await page.goto(callback);
      expect(replay?.status()).toBe(400);
      expect(await page.title()).toContain('no longer works');
    });
    expect(await link(carol)).toMatchObject({ robloxUserId: '5003', method: 'oauth' });
  });

  test('an expired link says so, and a denied consent links nothing', async () => {
    const dave = member('dave', '5004');
    const first = await startSignIn(dave);
    ahead += 11 * 60_000;
    try {
      await withContext(async (page) => {
        const response = await page.goto(first.url);
        expect(response?.status()).toBe(410);
        expect(await page.title()).toContain('expired');
      });
    } finally {
      ahead -= 11 * 60_000;
    }
    const second = await startSignIn(dave);
    world.roblox.oauth.browserUser = '5004';
    world.roblox.oauth.decision = 'deny';
    try {
      const final = await withContext((page) => continueToRoblox(page, second.url, 'dave'));
      expect(final.title).toContain('You did not allow access');
    } finally {
      world.roblox.oauth.decision = 'allow';
    }
    expect(await link(dave)).toBeNull();
    await until(() => (second.record.message ? messageText(second.record.message) : '').includes('did not allow'), 'the reply to say consent was denied');
  });
  test('Roblox down, or a code that expired on the way back: a page that says so, nothing linked', async () => {
    const gina = member('gina', '5007');
    world.roblox.oauth.browserUser = '5007';
    world.roblox.fault = (route) => (route === 'token' ? { status: 503, body: { error: 'temporarily_unavailable' } } : undefined);
    try {
      const down = await withContext(async (page) => continueToRoblox(page, (await startSignIn(gina)).url, 'gina'));
      expect(down.title).toContain('Roblox could not complete the sign-in');
      expect(down.text).toContain('Nothing was linked');
    } finally {
      world.roblox.fault = undefined;
    }
    world.roblox.oauth.codeTtlMs = 0; // the one-minute code is stale by the time it is exchanged
    try {
      const stale = await withContext(async (page) => continueToRoblox(page, (await startSignIn(gina)).url, 'gina'));
      expect(stale.title).toContain('Roblox did not accept this sign-in');
      expect(stale.text).toContain('already used or has expired');
    } finally {
      world.roblox.oauth.codeTtlMs = 60_000;
    }
    expect(await link(gina)).toBeNull();
  });
});

describe('the member\'s token over time', () => {
  let erin = '';

  test('rotates the single-use refresh token over several syncs, each stored before use', async () => {
    erin = member('erin', '5005', true);
    const { url } = await startSignIn(erin);
    world.roblox.oauth.browserUser = '5005';
    await withContext((page) => continueToRoblox(page, url, 'erin'));
    await until(() => has(erin).length === 2, 'roles after sign-in');
    const stored: string[] = [];
    for (let sync = 0; sync < 3; sync++) {
      ahead += 20 * 60_000; // past the access token's 15 minutes
      const before = world.roblox.count('token');
      await world.discord.answer(world.discord.sendCommand(world.guild.id, erin, 'update'));
      expect(world.roblox.count('token') - before).toBe(1); // exactly one refresh
      stored.push((await world.bot!.db.oAuthGrant.findUnique({ where: { discordUserId: erin } }))!.refreshToken);
    }
    expect(new Set(stored).size).toBe(3);
    expect(has(erin)).toEqual([roles.vip, roles.server].sort());
    // Every refresh used the newest token: the fake records any reuse of a spent one as a client error.
    expect(world.roblox.oauth.clientErrors).toEqual([]);
  });

  test('consent withdrawn at Roblox: falls back to the API key, keeps what it cannot check, says so in /check', async () => {
    world.roblox.revokeConsent('5005');
    ahead += 20 * 60_000;
    world.roblox.take('5005', 'gamepass', String(PASS));
    await world.discord.answer(world.discord.sendCommand(world.guild.id, erin, 'update'));
    // The public pass is read with the key (not owned any more: removed); the private server cannot be read: kept.
    expect(has(erin)).toEqual([roles.server]);
    expect((await world.bot!.db.oAuthGrant.findUnique({ where: { discordUserId: erin } }))!.status).toBe('revoked');
    const check = await world.discord.answer(world.discord.sendCommand(world.guild.id, world.guild.ownerId, 'check', [opt.user('member', erin)]));
    expect(check).toMatch(/consent was withdrawn or expired/);
    expect(check).toMatch(/sign-in was withdrawn or expired/);
  });

  test('/unlink revokes the stored token at Roblox and deletes it', async () => {
    const frank = member('frank', '5006', true);
    const { url } = await startSignIn(frank);
    world.roblox.oauth.browserUser = '5006';
    await withContext((page) => continueToRoblox(page, url, 'frank'));
    await until(() => has(frank).length === 2, 'roles after sign-in');
    const reply = await world.discord.answer(world.discord.sendCommand(world.guild.id, frank, 'unlink'));
    expect(reply).toContain('sign-in was revoked');
    expect(world.roblox.count('revoke', 200)).toBe(1);
    const family = [...world.roblox.oauth.refreshTokens.values()].find((t) => t.userId === '5006')!.family;
    expect(world.roblox.oauth.revokedFamilies.has(family)).toBe(true);
    expect(await world.bot!.db.oAuthGrant.findUnique({ where: { discordUserId: frank } })).toBeNull();
    expect(has(frank)).toEqual([]);
  });
});

describe('over https', () => {
  const PUBLIC_URL = 'https://gatepass.example';
  let secure: World;
  let securePort = 0;
  /** This machine stands in for PUBLIC_URL's host. */
  const local = (address: string) => address.replace(PUBLIC_URL, `http://127.0.0.1:${securePort}`);

  beforeAll(async () => {
    [secure, securePort] = await Promise.all([createWorld(), freePort()]);
    await startTestBot(secure, withOAuth(secure, securePort, PUBLIC_URL));
  }, 60_000);
  afterAll(async () => {
    expectCleanRun(secure);
    await destroyWorld(secure);
  });

  test('the sign-in cookie is a Secure __Host- cookie for the whole host, and only that cookie is taken', async () => {
    const requester = newMember(secure, secure.guild.id, 'host-only');
    secure.discord.oauth.browserUser = requester;
    const started = secure.discord.sendCommand(secure.guild.id, requester, 'verify');
    await secure.discord.answer(started);
    const state = new URL(linkUrl(started)).searchParams.get('state')!;
    const continued = await fetch(local(`${PUBLIC_URL}/oauth/start`), { method: 'POST', body: new URLSearchParams({ state, action: 'continue' }), redirect: 'manual' });
    expect(continued.status).toBe(303);
    const setCookie = continued.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^__Host-gatepass_signin=[\w-]{43}; Path=\/; Secure; Max-Age=600; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie.split(';')[0]!;
    const fromDiscord = (await fetch(continued.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!;
    expect(fromDiscord.startsWith(`${PUBLIC_URL}/oauth/discord?`)).toBe(true);
    // The same value under the unprefixed name could have been set by another host: it is not ours.
    expect((await fetch(local(fromDiscord), { headers: { cookie: cookie.replace('__Host-', '') }, redirect: 'manual' })).status).toBe(403);
    const confirmed = await fetch(local(fromDiscord), { headers: { cookie }, redirect: 'manual' });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toContain('/oauth/v1/authorize');
  });
});

describe('Sign in with Roblox in a rush', () => {
  const shown = (record: InteractionRecord) => (record.message ? messageText(record.message) : '');

  test('a member whose sign-in waits behind others is told their place in line, then linked', async () => {
    // Code exchanges are held at Roblox; sign-ins start until one must wait in the budget's line
    // (one is out at a time until Roblox has answered, then four).
    const held = gate();
    world.roblox.fault = (route) => (route === 'token' ? { hold: held.promise } : undefined);
    const flows: { robloxId: string; record: InteractionRecord; page: Promise<{ title: string }> }[] = [];
    const inLine = (record: InteractionRecord) => /you are 1st in line to finish your sign-in/.test(shown(record));
    while (!flows.some((f) => inLine(f.record)) && flows.length < 5) {
      const i = flows.length;
      const robloxId = String(5110 + i);
      const { record, url } = await startSignIn(member(`rush${i}`, robloxId, true));
      world.roblox.oauth.browserUser = robloxId;
      const exchanges = world.roblox.count('token');
      flows.push({ robloxId, record, page: withContext((p) => continueToRoblox(p, url, `rush${i}`)) });
      await until(() => world.roblox.count('token') > exchanges || inLine(record), `sign-in ${i} to reach Roblox or its line`, 20_000);
    }
    const waiting = flows.filter((f) => inLine(f.record));
    expect(waiting).toHaveLength(1);
    const out = flows.filter((f) => !inLine(f.record));
    expect(out.length).toBeGreaterThanOrEqual(1);
    await until(() => out.every((f) => /Asking Roblox now to finish your sign-in/.test(shown(f.record))), 'those whose exchange is out to be told Roblox is being asked', 20_000);
    expect(await world.bot!.db.link.count({ where: { robloxUserId: { in: flows.map((f) => f.robloxId) } } })).toBe(0);

    held.release();
    for (const [i, flow] of flows.entries()) {
      expect((await flow.page).title).toContain(`Linked to rush${i}_rbx`);
      await until(() => shown(flow.record).includes('Linked'), 'the /verify reply to say linked');
      expect(flow.record.timeline.at(-1)!.interim).toBe(false); // no notice lands after the answer
    }
    expect(await world.bot!.db.link.count({ where: { robloxUserId: { in: flows.map((f) => f.robloxId) } } })).toBe(flows.length);
    world.roblox.fault = undefined;
  }, 90_000);
});
