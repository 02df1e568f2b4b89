// Starts the real bot (discord.js Client, Roblox client, Prisma on a temporary SQLite file)
// against the fakes, with logs captured so tests can read them.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bot, type BotOptions, startBot } from '../src/bot';
import type { Config } from '../src/config';
import { createLogger } from '../src/log';
import { WAITING_MARK } from '../src/waiting';
import { FakeDiscord, type FakeGuild } from './fakes/discord';
import { FakeRoblox } from './fakes/roblox';
import { dropTestDatabase, testDatabaseUrl } from './database';

export const ROBLOX_KEY = 'test-roblox-key-7c1d2b9e';

export interface World {
  discord: FakeDiscord;
  roblox: FakeRoblox;
  guild: FakeGuild;
  /** Everything the bot logged, one JSON line each. */
  logs: string[];
  config: Config;
  bot?: Bot;
  dir: string;
}

/** Fakes up, one guild with the bot in it; the bot is not started yet. */
export async function createWorld(): Promise<World> {
  const discord = new FakeDiscord();
  const roblox = new FakeRoblox();
  roblox.apiKeys.set(ROBLOX_KEY, 'owner-1');
  await Promise.all([discord.start(), roblox.start()]);
  discord.interim = (text) => text.startsWith(WAITING_MARK);
  const guild = discord.addGuild('Test Server');
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-test-'));
  const config: Config = {
    discordToken: discord.token,
    discordApplicationId: discord.applicationId,
    robloxApiKey: ROBLOX_KEY,
    databaseUrl: await testDatabaseUrl(dir),
    syncCron: '0 0 1 1 *', // effectively never; cron tests set their own
    robloxInventoryRateLimit: 100,
    robloxUsersRateLimit: 1000,
    // Lookups a few milliseconds apart, so tests that do not test the line are not held by it.
    robloxUsernamesRateLimit: 6000,
    robloxGroupsRateLimit: 300,
    discordApiBaseUrl: `${discord.url}/api`,
    robloxApiBaseUrl: roblox.url,
    robloxUsersApiBaseUrl: roblox.url,
    robloxBadgesApiBaseUrl: roblox.badgesUrl,
    robloxEconomyApiBaseUrl: roblox.economyUrl,
    logLevel: 'debug',
  };
  return { discord, roblox, guild, logs: [], config, dir };
}

export async function startTestBot(world: World, config: Partial<Config> = {}, options: Partial<BotOptions> = {}): Promise<Bot> {
  const log = createLogger(config.logLevel ?? world.config.logLevel, { write: (line: string) => void world.logs.push(line) });
  world.bot = await startBot(
    { ...world.config, ...config },
    { log, robloxHttp: { timeoutMs: 1_000, backoffBaseMs: 20, maxRetryWaitMs: 5_000 }, robloxKeyRetryBaseMs: 200, ...options },
  );
  return world.bot;
}

export async function destroyWorld(world: World): Promise<void> {
  await world.bot?.stop();
  await Promise.all([world.discord.close(), world.roblox.close()]);
  await dropTestDatabase(world.config.databaseUrl);
  rmSync(world.dir, { recursive: true, force: true });
}

/**
 * `npm start`'s process (or another entry of the bundle: dist/shard.mjs, dist/proxy.mjs), configured
 * through its environment only, against the world's fakes.
 */
export function startProcess(w: World, overrides: Record<string, string> = {}, entry = 'dist/main.mjs') {
  const env = {
    PATH: process.env.PATH,
    DOTENV_CONFIG_PATH: '/nonexistent',
    DISCORD_TOKEN: w.config.discordToken,
    ROBLOX_API_KEY: w.config.robloxApiKey,
    DATABASE_URL: w.config.databaseUrl,
    DISCORD_API_BASE_URL: w.config.discordApiBaseUrl,
    ROBLOX_API_BASE_URL: w.config.robloxApiBaseUrl,
    ROBLOX_USERS_API_BASE_URL: w.config.robloxUsersApiBaseUrl,
    ROBLOX_BADGES_API_BASE_URL: w.config.robloxBadgesApiBaseUrl,
    ROBLOX_ECONOMY_API_BASE_URL: w.config.robloxEconomyApiBaseUrl,
    SYNC_CRON: '* * * * * *',
    ...overrides,
  };
  // What `npm start` runs after building, without npm between: npm turns a clean exit on SIGTERM
  // into death by that signal, which is npm's behaviour, not the bot's.
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  child.stderr.on('data', (chunk) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  /** The output's JSON log lines. */
  const lines = () =>
    text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { child, exited, output: () => text, lines };
}

/** Polls until `check` holds (or throws after the timeout). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Raw command options, as Discord sends them. */
export const opt = {
  string: (name: string, value: string) => ({ type: 3, name, value }),
  integer: (name: string, value: number) => ({ type: 4, name, value }),
  user: (name: string, value: string) => ({ type: 6, name, value }),
  role: (name: string, value: string) => ({ type: 8, name, value }),
  sub: (name: string, options: Record<string, unknown>[] = []) => ({ type: 1, name, options }),
};

/** The button custom id on the bot's answer to an interaction. */
export function buttonId(record: { message?: { components: unknown[] } }): string {
  const rows = (record.message?.components ?? []) as { components?: { custom_id?: string }[] }[];
  const id = rows.flatMap((r) => r.components ?? []).find((c) => c.custom_id)?.custom_id;
  if (!id) throw new Error('no button on that message');
  return id;
}

/** Runs the real profile-code proof: /verify, put the code in the About, press the button. */
export async function verifyByProfile(world: World, guildId: string, discordUserId: string, robloxUserId: string): Promise<string> {
  const started = world.discord.sendCommand(guildId, discordUserId, 'verify', [opt.string('username', world.roblox.users.get(robloxUserId)!.name)]);
  const text = await world.discord.answer(started);
  const code = text.match(/```(.+?)```/)?.[1];
  if (!code) throw new Error(`no code in: ${text}`);
  world.roblox.users.get(robloxUserId)!.about = `hi! ${code}`;
  const pressed = world.discord.clickButton(started, discordUserId, buttonId(started));
  return world.discord.answer(pressed);
}

/** Binds a role through the real /bind add command, as the server owner. */
export async function bind(world: World, guildId: string, roleId: string, type: string, id?: number): Promise<string> {
  const owner = world.discord.guilds.get(guildId)!.ownerId;
  const options = [opt.string('type', type), opt.role('role', roleId), ...(id === undefined ? [] : [opt.integer('id', id)])];
  return world.discord.answer(world.discord.sendCommand(guildId, owner, 'bind', [opt.sub('add', options)]));
}

/** One series' value in a Prometheus text exposition (/metrics); NaN when absent. */
export function metricValue(text: string, series: string): number {
  return Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.split(' ')[1] ?? Number.NaN);
}

/** A new Discord user who is a member of the guild. */
export function newMember(world: World, guildId: string, name: string, roles: string[] = []): string {
  const id = world.discord.addUser(name);
  world.discord.addMember(guildId, id, roles);
  return id;
}

/** Asserts the fakes saw nothing that breaks the specs, and no secret reached the logs. */
export function expectCleanRun(world: World): void {
  if (world.discord.specErrors.length + world.roblox.specErrors.length > 0) {
    throw new Error(`spec violations: ${JSON.stringify([...world.discord.specErrors, ...world.roblox.specErrors].slice(0, 5))}`);
  }
  const unexplained = world.discord.roleWrites.filter((w) => !w.reason?.startsWith('gatepass: '));
  if (unexplained.length > 0) throw new Error(`role writes without an audit-log reason: ${JSON.stringify(unexplained.slice(0, 3))}`);
  const unexplainedNicks = world.discord.nickWrites.filter((w) => !w.reason?.startsWith('gatepass: '));
  if (unexplainedNicks.length > 0) throw new Error(`nickname writes without an audit-log reason: ${JSON.stringify(unexplainedNicks.slice(0, 3))}`);
  const tooLong = world.discord.nickWrites.filter((w) => w.status === 400);
  if (tooLong.length > 0) throw new Error(`nickname writes Discord refused as malformed: ${JSON.stringify(tooLong.slice(0, 3))}`);
  const logs = world.logs.join('');
  if ([world.config.discordToken, world.config.robloxApiKey, OAUTH_CLIENT.secret, world.discord.oauth.clientSecret].some((secret) => logs.includes(secret))) throw new Error('a secret appeared in the logs');
  const tokens = [...world.roblox.oauth.accessTokens.keys(), ...world.roblox.oauth.refreshTokens.keys(), ...world.roblox.oauth.codes.keys()];
  if (tokens.some((token) => logs.includes(token))) throw new Error('an OAuth token or code appeared in the logs');
  if ([...world.discord.interactions.keys()].some((token) => logs.includes(token))) throw new Error('an interaction token appeared in the logs');
  if (world.roblox.oauth.clientErrors.length > 0) throw new Error(`OAuth protocol errors: ${JSON.stringify(world.roblox.oauth.clientErrors)}`);
}

export const OAUTH_CLIENT = { id: '7390012345678901234', secret: 'RBX-oauth-secret-5a1f9c' };
export const TOKEN_KEY_HEX = 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Sign in with Roblox configured on both sides: the fake knows the client and its redirect URI. */
export function withOAuth(world: World, port: number, publicUrl = `http://127.0.0.1:${port}`): Partial<Config> {
  world.roblox.oauth.clients.set(OAUTH_CLIENT.id, { secret: OAUTH_CLIENT.secret, redirectUris: [`${publicUrl}/oauth/callback`] });
  world.discord.oauth.redirectUris.push(`${publicUrl}/oauth/discord`);
  return { httpPort: port, oauth: { clientId: OAUTH_CLIENT.id, clientSecret: OAUTH_CLIENT.secret, discordClientSecret: world.discord.oauth.clientSecret, publicUrl, tokenKey: Buffer.from(TOKEN_KEY_HEX, 'hex') } };
}

/** The URL of the link button on the bot's answer to an interaction. */
export function linkUrl(record: { message?: { components: unknown[] } }): string {
  const rows = (record.message?.components ?? []) as { components?: { url?: string }[] }[];
  const url = rows.flatMap((r) => r.components ?? []).find((c) => c.url)?.url;
  if (!url) throw new Error('no link button on that message');
  return url;
}
