// Running it like a product: the log channel, live /sync progress, /whois, /healthz and /metrics.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bind, createWorld, destroyWorld, expectCleanRun, metricValue, newMember, opt, ROBLOX_KEY, startTestBot, until, verifyByProfile, type World } from '../harness';

let world: World;
let base = '';
const roles = { vip: '', extra: '' };

beforeAll(async () => {
  world = await createWorld();
  roles.vip = world.discord.addRole(world.guild.id, 'VIP', { position: 3 });
  roles.extra = world.discord.addRole(world.guild.id, 'Extra', { position: 2 });
  world.roblox.addItem('gamepass', '501', 'Op Pass');
  world.roblox.addItem('badge', '77', 'Extra Badge');
  const bot = await startTestBot(world, { httpPort: 0 });
  base = `http://127.0.0.1:${bot.httpPort}`;
}, 60_000);
afterAll(async () => {
  expectCleanRun(world);
  await destroyWorld(world);
});

const owner = () => world.guild.ownerId;
const command = (user: string, name: string, options: Record<string, unknown>[] = []) => world.discord.answer(world.discord.sendCommand(world.guild.id, user, name, options));
const posted = () => world.discord.channelMessages.filter((m) => m.guildId === world.guild.id).map((m) => m.content);

describe('log channel', () => {
  test('/settings log-channel proves it can post there, and /settings show tells', async () => {
    expect(await command(owner(), 'settings', [opt.sub('show')])).toContain('Log channel: none');
    const reply = await command(owner(), 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: world.guild.channelId }])]);
    expect(reply).toContain(`I will post my log in <#${world.guild.channelId}>`);
    expect(posted()).toEqual([expect.stringContaining('gatepass will post its log here')]);
    expect(await command(owner(), 'settings', [opt.sub('show')])).toContain(`Log channel: <#${world.guild.channelId}>`);
  });

  test('a channel the bot cannot post in is refused and nothing changes', async () => {
    world.discord.fault = (method, template) => (template === '/channels/{channel_id}/messages' ? { status: 403, body: { code: 50001, message: 'Missing Access' } } : undefined);
    try {
      const reply = await command(owner(), 'settings', [opt.sub('log-channel', [{ type: 7, name: 'channel', value: world.guild.channelId }])]);
      expect(reply).toContain('I cannot post in');
      expect(reply).toContain('Nothing was changed');
    } finally {
      world.discord.fault = undefined;
    }
    expect(await command(owner(), 'settings', [opt.sub('show')])).toContain(`<#${world.guild.channelId}>`);
  });

  test('links, bind changes, one message per run for its role changes, unlinks', async () => {
    const before = posted().length;
    await bind(world, world.guild.id, roles.vip, 'gamepass', 501);
    const members = ['m1', 'm2', 'm3'].map((name, i) => {
      world.roblox.addUser({ id: String(8100 + i), name: `Op${name}` });
      return newMember(world, world.guild.id, name);
    });
    for (const [i, member] of members.entries()) await verifyByProfile(world, world.guild.id, member, String(8100 + i));
    for (const [i] of members.entries()) world.roblox.give(String(8100 + i), 'gamepass', '501');
    await command(owner(), 'sync');
    await command(members[0]!, 'unlink');
    const log = posted().slice(before);
    expect(log[0]).toMatch(/^➕ <@\d+> bound <@&\d+> to game pass Op Pass \(501\)/);
    expect(log.filter((m) => m.startsWith('🔗'))).toHaveLength(3);
    expect(log.find((m) => m.startsWith('🔗'))).toContain('with a profile code');
    const runs = log.filter((m) => m.startsWith('🔄'));
    expect(runs).toHaveLength(1); // three members' changes, one message
    expect(runs[0]).toContain('3 role(s) given, 0 removed');
    for (const member of members) expect(runs[0]).toContain(`<@${member}>: +<@&${roles.vip}>`);
    expect(log.at(-1)).toMatch(/^✂️ <@\d+> unlinked Roblox \*\*Opm1\*\*/);
  });

  test('a bound role the bot can no longer manage: named once in the run\'s message, not once per member', async () => {
    const high = world.discord.addRole(world.guild.id, 'High', { position: 5 });
    await bind(world, world.guild.id, high, 'gamepass', 501);
    world.discord.updateRole(world.guild.id, high, { position: 50 }); // moved above the bot's role
    const before = posted().length;
    await command(owner(), 'sync');
    const run = posted().slice(before).find((m) => m.startsWith('🔄'))!;
    expect(run).toContain('⚠️ Could not do everything:');
    expect(run.match(/cannot add @High/g)).toHaveLength(1); // two members hit it, one line
    expect(run).toContain("is not below the bot's highest role");
    await world.bot!.db.bind.deleteMany({ where: { roleId: high } });
  });

  test('a deleted bound role: its binds are removed and the staff told', async () => {
    await bind(world, world.guild.id, roles.extra, 'badge', 77);
    world.discord.deleteRole(world.guild.id, roles.extra);
    await until(() => posted().some((m) => m.includes('was deleted')), 'the alert');
    expect(posted().at(-1)).toContain('The bound role @Extra was deleted, so its 1 bind(s) were removed');
    expect(await world.bot!.db.bind.count({ where: { roleId: roles.extra } })).toBe(0);
  });

  test('the Roblox key rejected: an alert, and another when it works again', async () => {
    world.roblox.apiKeys.delete(ROBLOX_KEY);
    try {
      await command(owner(), 'sync');
      await until(() => posted().some((m) => m.includes("Roblox rejected the bot's API key")), 'the key alert');
    } finally {
      world.roblox.apiKeys.set(ROBLOX_KEY, 'owner-1');
    }
    await until(async () => {
      await command(owner(), 'sync');
      return posted().some((m) => m.includes('accepts the API key again'));
    }, 'the recovery notice', 15_000);
  });
});

describe('/sync', () => {
  test('edits its reply with progress while it runs, ends with a summary; a second /sync says one is running', async () => {
    for (let i = 0; i < 12; i++) {
      world.roblox.addUser({ id: String(8200 + i), name: `Slow${i}`, items: [{ kind: 'gamepass', id: '501' }] });
      await verifyByProfile(world, world.guild.id, newMember(world, world.guild.id, `slow${i}`), String(8200 + i));
    }
    world.roblox.fault = (route) => (route === 'inventory' ? { delayMs: 700 } : undefined);
    try {
      const first = world.discord.sendCommand(world.guild.id, owner(), 'sync');
      await until(() => first.history.some((c) => c.startsWith('Syncing…')), 'a progress edit', 20_000);
      expect(first.history.find((c) => c.startsWith('Syncing…'))).toMatch(/^Syncing… \d+ of 14 linked member\(s\) checked/);
      expect(await command(owner(), 'sync')).toMatch(/A sync of this server is already running: \d+ of 14 checked/);
      await until(() => first.message?.content.startsWith('Sync finished') ?? false, 'the summary', 30_000);
      expect(first.message!.content).toMatch(/Sync finished: re-checked 14 linked member\(s\)/);
    } finally {
      world.roblox.fault = undefined;
    }
  }, 60_000);
});

describe('/whois', () => {
  test('by username or id: only ever names members of this server', async () => {
    world.roblox.addUser({ id: '8300', name: 'Findme' });
    const member = newMember(world, world.guild.id, 'findme');
    await verifyByProfile(world, world.guild.id, member, '8300');
    expect(await command(owner(), 'whois', [opt.string('roblox', 'findme')])).toMatch(new RegExp(`Roblox \\*\\*Findme\\*\\* \\(id 8300\\) is linked to <@${member}>.*profile code`));
    expect(await command(owner(), 'whois', [opt.string('roblox', '8300')])).toContain(`<@${member}>`);
    expect(await command(owner(), 'whois', [opt.string('roblox', 'nobody_here')])).toContain('No Roblox account is named "nobody_here"');
    // Linked, but not a member here: the answer does not reveal the link, not even by the stored name.
    world.discord.removeMember(world.guild.id, member);
    expect(await command(owner(), 'whois', [opt.string('roblox', '8300')])).toBe('No member of this server is linked to Roblox **8300** (id 8300).');
    expect(await command(owner(), 'whois', [opt.string('roblox', '8399')])).toBe('No member of this server is linked to Roblox **8399** (id 8399).'); // as for an account never linked
  });
});

describe('secrets in logs', () => {
  test('an interaction Discord no longer knows: its failure is logged, its token is not', async () => {
    world.discord.fault = (_method, template) => (template === '/interactions/{interaction_id}/{interaction_token}/callback' ? { status: 404, body: { code: 10062, message: 'Unknown interaction' } } : undefined);
    try {
      const record = world.discord.sendCommand(world.guild.id, owner(), 'settings', [opt.sub('show')]);
      // discord.js's error carries the callback URL, token and all; the log keeps the URL, censored.
      await until(() => world.logs.some((line) => line.includes('could not answer an interaction')), 'the failure to be logged');
      const logs = world.logs.join('');
      expect(logs).toContain(`/interactions/${record.id}/[secret]/callback`);
      expect(logs).not.toContain(record.token);
    } finally {
      world.discord.fault = undefined;
    }
  });
});

describe('/healthz and /metrics', () => {
  test('health: gateway, database, age of the last completed sync', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, gateway: 'connected', database: 'ok' });
    expect(body.lastSyncAgeSeconds).toBeNull(); // /sync runs are per server; no cycle has completed yet
    await world.bot!.runs.runAll('test');
    const after = (await (await fetch(`${base}/healthz`)).json()) as { lastSyncAgeSeconds: number; lastSyncFinishedAt: string };
    expect(after.lastSyncAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(after.lastSyncFinishedAt)).not.toBeNaN();
  });

  test('metrics in Prometheus format: checks by outcome, Roblox requests by status, role writes, durations, queue', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (series: string) => metricValue(text, series);
    expect(value('gatepass_ownership_checks_total{outcome="owns"}')).toBeGreaterThanOrEqual(3);
    expect(value('gatepass_roblox_requests_total{endpoint="inventory",status="200"}')).toBeGreaterThan(0);
    expect(value('gatepass_roblox_requests_total{endpoint="inventory",status="401"}')).toBeGreaterThan(0); // the rejected key
    expect(value('gatepass_roblox_requests_total{endpoint="gamepass_name",status="200"}')).toBeGreaterThan(0); // /bind add's lookups
    expect(value('gatepass_roblox_requests_total{endpoint="badge_name",status="200"}')).toBeGreaterThan(0);
    expect(value('gatepass_role_writes_total{action="add"}')).toBeGreaterThanOrEqual(3);
    expect(value('gatepass_sync_duration_seconds_count{trigger="test"}')).toBe(1);
    expect(value('gatepass_sync_queue_depth')).toBe(0);
    expect(text).toContain('gatepass_process_resident_memory_bytes');
  });

  test('unhealthy (503) once the gateway is gone', async () => {
    await world.bot!.client.destroy();
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, gateway: 'disconnected' });
  });
});
