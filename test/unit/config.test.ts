import { describe, expect, test } from 'vitest';
import { applicationIdFromToken, loadConfig, loadProxyConfig, loadShardConfig } from '../../src/config';

const APP_ID = '1234567890123456789';
const TOKEN = `${Buffer.from(APP_ID).toString('base64')}.GhIjKl.s3cr3t-token-part_abcdefghijklmnopqrstu`;
const valid = { DISCORD_TOKEN: TOKEN, ROBLOX_API_KEY: 'roblox-secret-key' };
/** What several processes need besides: a database and a queue they can share. */
const shared = { ...valid, DATABASE_URL: 'postgresql://gatepass:pw@127.0.0.1:5432/gatepass', REDIS_URL: 'redis://localhost:6379' };

describe('loadConfig', () => {
  test('fills every default', () => {
    const result = loadConfig(valid);
    expect(result).toEqual({
      ok: true,
      config: {
        discordToken: TOKEN,
        discordApplicationId: APP_ID,
        robloxApiKey: 'roblox-secret-key',
        databaseUrl: 'file:./data/gatepass.db',
        syncCron: '*/30 * * * *',
        robloxInventoryRateLimit: 100,
        robloxUsersRateLimit: 1000,
        robloxUsernamesRateLimit: 12,
        robloxGroupsRateLimit: 300,
        discordApiBaseUrl: 'https://discord.com/api',
        robloxApiBaseUrl: 'https://apis.roblox.com',
        robloxUsersApiBaseUrl: 'https://users.roblox.com',
        robloxBadgesApiBaseUrl: 'https://badges.roblox.com',
        robloxEconomyApiBaseUrl: 'https://economy.roblox.com',
        logLevel: 'info',
      },
    });
  });

  test('the users, usernames and groups budgets can be set', () => {
    const result = loadConfig({ ...valid, ROBLOX_USERS_RATE_LIMIT: '400', ROBLOX_USERNAMES_RATE_LIMIT: '6', ROBLOX_GROUPS_RATE_LIMIT: '150' });
    expect(result.ok && [result.config.robloxUsersRateLimit, result.config.robloxUsernamesRateLimit, result.config.robloxGroupsRateLimit]).toEqual([400, 6, 150]);
  });

  test('empty values count as unset', () => {
    const result = loadConfig({ ...valid, SYNC_CRON: '', LOG_LEVEL: '', DATABASE_URL: '' });
    expect(result.ok && result.config.syncCron).toBe('*/30 * * * *');
  });

  test('accepts a seconds field in SYNC_CRON and explicit values', () => {
    const result = loadConfig({ ...valid, SYNC_CRON: '*/10 * * * * *', ROBLOX_INVENTORY_RATE_LIMIT: '60', DISCORD_APPLICATION_ID: '987654321098765432', LOG_LEVEL: 'debug' });
    expect(result.ok && [result.config.syncCron, result.config.robloxInventoryRateLimit, result.config.discordApplicationId, result.config.logLevel]).toEqual([
      '*/10 * * * * *',
      60,
      '987654321098765432',
      'debug',
    ]);
  });

  test.each([
    [{}, /DISCORD_TOKEN is required.*ROBLOX_API_KEY is required/],
    [{ ...valid, DISCORD_TOKEN: 'not-a-token' }, /^Configuration error: DISCORD_TOKEN does not look like a bot token/],
    [{ ...valid, ROBLOX_API_KEY: '   ' }, /ROBLOX_API_KEY is required/],
    [{ ...valid, SYNC_CRON: 'every hour' }, /SYNC_CRON is not a valid cron expression/],
    [{ ...valid, ROBLOX_INVENTORY_RATE_LIMIT: 'fast' }, /ROBLOX_INVENTORY_RATE_LIMIT must be a whole number/],
    [{ ...valid, ROBLOX_INVENTORY_RATE_LIMIT: '0' }, /ROBLOX_INVENTORY_RATE_LIMIT must be at least 1/],
    [{ ...valid, ROBLOX_INVENTORY_RATE_LIMIT: '2.5' }, /ROBLOX_INVENTORY_RATE_LIMIT must be a whole number/],
    [{ ...valid, ROBLOX_USERS_RATE_LIMIT: '0' }, /ROBLOX_USERS_RATE_LIMIT must be at least 1/],
    [{ ...valid, ROBLOX_USERNAMES_RATE_LIMIT: 'lots' }, /ROBLOX_USERNAMES_RATE_LIMIT must be a whole number/],
    [{ ...valid, ROBLOX_USERNAMES_RATE_LIMIT: '1e9' }, /ROBLOX_USERNAMES_RATE_LIMIT is implausibly large/],
    [{ ...valid, ROBLOX_GROUPS_RATE_LIMIT: '0' }, /ROBLOX_GROUPS_RATE_LIMIT must be at least 1/],
    [{ ...valid, ROBLOX_GROUPS_RATE_LIMIT: 'many' }, /ROBLOX_GROUPS_RATE_LIMIT must be a whole number/],
    [{ ...valid, DISCORD_API_BASE_URL: 'discord.com' }, /DISCORD_API_BASE_URL must be an http\(s\) URL/],
    [{ ...valid, ROBLOX_API_BASE_URL: 'ftp://x' }, /ROBLOX_API_BASE_URL must be an http\(s\) URL/],
    [{ ...valid, ROBLOX_BADGES_API_BASE_URL: 'badges.roblox.com' }, /ROBLOX_BADGES_API_BASE_URL must be an http\(s\) URL/],
    [{ ...valid, ROBLOX_ECONOMY_API_BASE_URL: 'file:///etc' }, /ROBLOX_ECONOMY_API_BASE_URL must be an http\(s\) URL/],
    [{ ...valid, DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a SQLite file URL \(file:.*\) or a PostgreSQL URL/],
    [{ ...valid, DATABASE_URL: 'file:' }, /DATABASE_URL names no SQLite file/],
    [{ ...valid, DATABASE_URL: 'postgresql://gatepass:hunter2@db.example' }, /DATABASE_URL names no PostgreSQL database/],
    [{ ...valid, DATABASE_URL: 'postgres://gatepass:hunter2@:5432/gatepass' }, /DATABASE_URL (is not a valid PostgreSQL URL|names no PostgreSQL host)/],
    [{ ...valid, LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ ...valid, DISCORD_APPLICATION_ID: 'abc' }, /DISCORD_APPLICATION_ID must be a numeric Discord id/],
    [{ ...valid, DISCORD_TOKEN: 'aaaa.bbbb.cccc' }, /DISCORD_APPLICATION_ID is required: it could not be derived/],
  ])('rejects %j with one clear line', (env, message) => {
    const result = loadConfig(env as NodeJS.ProcessEnv);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toMatch(message);
    expect(result.message).not.toContain('\n');
  });

  test('SHARD_COUNT: unset is one process; a number or auto asks for shards', () => {
    const one = loadConfig({ ...valid, SHARD_COUNT: '1' });
    expect(one.ok && one.config.shardCount).toBe(1);
    const unset = loadConfig(valid);
    expect(unset.ok && unset.config.shardCount).toBeUndefined();
    for (const [value, expected] of [['3', 3], [' auto ', 'auto']] as const) {
      const result = loadConfig({ ...shared, SHARD_COUNT: value });
      expect(result.ok && result.config.shardCount).toBe(expected);
    }
  });

  test.each([
    ['2', /^Configuration error: SHARD_COUNT above 1 runs a process per shard, and processes cannot share a SQLite database \(DATABASE_URL file:…\): set a PostgreSQL DATABASE_URL, or unset SHARD_COUNT to run one process$/],
    ['auto', /SHARD_COUNT above 1 runs a process per shard, and processes cannot share a SQLite database/],
    ['0', /^Configuration error: SHARD_COUNT must be at least 1$/],
    ['-2', /^Configuration error: SHARD_COUNT must be auto or a whole number of shards$/],
    ['2.5', /^Configuration error: SHARD_COUNT must be auto or a whole number of shards$/],
    ['many', /^Configuration error: SHARD_COUNT must be auto or a whole number of shards$/],
    ['5000', /^Configuration error: SHARD_COUNT is implausibly large \(at most 1024\)$/],
  ])('SHARD_COUNT=%s is refused with one precise line', (value, message) => {
    const result = loadConfig({ ...valid, SHARD_COUNT: value, REDIS_URL: 'redis://localhost:6379' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  test('several processes without REDIS_URL are refused: each would run the whole cycle', () => {
    const result = loadConfig({ ...shared, SHARD_COUNT: '2', REDIS_URL: '' });
    expect(!result.ok && result.message).toBe('Configuration error: SHARD_COUNT above 1 runs a process per shard, and they share the work through a queue: set REDIS_URL (see README, Many processes)');
  });

  test('npm start refuses a SHARD_ID: it runs every shard itself', () => {
    const result = loadConfig({ ...shared, SHARD_COUNT: '3', SHARD_ID: '1' });
    expect(!result.ok && result.message).toBe('Configuration error: SHARD_ID is only for a shard process run on its own (node dist/shard.mjs, as gatepass@.service runs it); npm start runs every shard itself: unset SHARD_ID');
  });

  test('REDIS_URL turns on queue mode; unset, it stays off', () => {
    expect(loadConfig(valid).ok && loadConfig(valid)).not.toHaveProperty('config.redisUrl');
    for (const url of ['redis://localhost:6379', 'rediss://user:pw@cache.example.com:6380/2', 'redis://10.0.0.5']) {
      const result = loadConfig({ ...valid, REDIS_URL: url });
      expect(result.ok && result.config.redisUrl).toBe(url);
    }
  });

  test.each([
    ['localhost:6379', /^Configuration error: REDIS_URL must start with redis:\/\/ or rediss:\/\/ \(TLS\), not localhost:\/\/$/],
    ['6379', /REDIS_URL must be a URL such as redis:\/\/localhost:6379/],
    ['http://cache:6379', /REDIS_URL must start with redis:\/\/ or rediss:\/\/ \(TLS\), not http:\/\//],
    ['redis://', /REDIS_URL names no host/],
    ['redis://cache:6379/queue', /REDIS_URL has a path that is not a database number/],
    ['redis://cache:6379/0?tls=1', /REDIS_URL must not carry a query or fragment/],
  ])('rejects REDIS_URL %s precisely', (url, message) => {
    const result = loadConfig({ ...valid, REDIS_URL: url });
    expect(!result.ok && result.message).toMatch(message);
  });

  test('a wrong REDIS_URL never echoes its password', () => {
    const result = loadConfig({ ...valid, REDIS_URL: 'redis://user:hunter2@cache:6379/queue' });
    expect(!result.ok && result.message).toMatch(/REDIS_URL has a path/);
    expect(!result.ok && result.message).not.toContain('hunter2');
  });

  test('never echoes a secret', () => {
    const result = loadConfig({ DISCORD_TOKEN: 'secret value with spaces', ROBLOX_API_KEY: 'another secret value' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).not.toMatch(/secret/);
  });

  test('takes PostgreSQL by its URL, and never echoes its password when it is wrong', () => {
    const result = loadConfig({ ...valid, DATABASE_URL: 'postgresql://gatepass:hunter2@db.example:5432/gatepass' });
    expect(result.ok && result.config.databaseUrl).toBe('postgresql://gatepass:hunter2@db.example:5432/gatepass');
    const wrong = loadConfig({ ...valid, DATABASE_URL: 'postgresql://gatepass:hunter2@db.example:5432' });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.message).not.toContain('hunter2');
  });

  test('derives the application id from the token', () => {
    expect(applicationIdFromToken(TOKEN)).toBe(APP_ID);
    expect(applicationIdFromToken('garbage.x.y')).toBeUndefined();
  });
});

describe('Sign in with Roblox settings', () => {
  const KEY = 'ab'.repeat(32);
  const oauth = { ROBLOX_OAUTH_CLIENT_ID: '7390012345678901234', ROBLOX_OAUTH_CLIENT_SECRET: 'RBX-secret-value', DISCORD_CLIENT_SECRET: 'discord-secret-value', PUBLIC_URL: 'https://gatepass.example.com/', HTTP_PORT: '8080', TOKEN_ENCRYPTION_KEY: KEY };

  test('all six together turn it on', () => {
    const result = loadConfig({ ...valid, ...oauth });
    expect(result.ok && result.config.oauth).toEqual({ clientId: oauth.ROBLOX_OAUTH_CLIENT_ID, clientSecret: 'RBX-secret-value', discordClientSecret: 'discord-secret-value', publicUrl: 'https://gatepass.example.com', tokenKey: Buffer.from(KEY, 'hex') });
    expect(result.ok && result.config.httpPort).toBe(8080);
  });

  test('without them the bot works as before; HTTP_PORT alone is allowed', () => {
    const result = loadConfig({ ...valid, HTTP_PORT: '9000' });
    expect(result.ok && [result.config.oauth, result.config.httpPort]).toEqual([undefined, 9000]);
  });

  test.each([
    ['no key', { TOKEN_ENCRYPTION_KEY: undefined }, /TOKEN_ENCRYPTION_KEY is required for Sign in with Roblox/],
    ['a short key', { TOKEN_ENCRYPTION_KEY: 'abc123' }, /TOKEN_ENCRYPTION_KEY must be 32 random bytes/],
    ['no public address', { PUBLIC_URL: undefined }, /PUBLIC_URL is required/],
    ['no port', { HTTP_PORT: undefined }, /HTTP_PORT is required/],
    ['no secret', { ROBLOX_OAUTH_CLIENT_SECRET: undefined }, /ROBLOX_OAUTH_CLIENT_SECRET is required/],
    ['no Discord secret', { DISCORD_CLIENT_SECRET: undefined }, /DISCORD_CLIENT_SECRET is required/],
    ['a bad port', { HTTP_PORT: '70000' }, /HTTP_PORT must be a port number/],
  ])('refuses to start with OAuth half-configured: %s', (_, change, message) => {
    const result = loadConfig({ ...valid, ...oauth, ...change });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(message);
      expect(result.message).not.toContain('RBX-secret-value');
      expect(result.message).not.toContain('discord-secret-value');
      expect(result.message).not.toContain(KEY);
    }
  });
});

describe('loadShardConfig: a shard process run on its own (dist/shard.mjs)', () => {
  const shard = { ...shared, SHARD_COUNT: '3', SHARD_ID: '2', REST_PROXY_URL: 'http://127.0.0.1:8950' };

  test('takes its shard, the count and the proxy, besides the whole configuration', () => {
    const result = loadShardConfig(shard);
    expect(result.ok && result.config).toMatchObject({ shardId: 2, shardCount: 3, restProxyUrl: 'http://127.0.0.1:8950', redisUrl: 'redis://localhost:6379', discordToken: TOKEN });
    // One shard of one needs neither PostgreSQL nor Redis, as npm start does not.
    const alone = loadShardConfig({ ...valid, SHARD_COUNT: '1', SHARD_ID: '0', REST_PROXY_URL: 'http://[::1]:8950' });
    expect(alone.ok && [alone.config.shardId, alone.config.shardCount]).toEqual([0, 1]);
  });

  test.each([
    [{ SHARD_ID: '' }, 'SHARD_ID is required by a shard process: the shard it holds, from 0 to SHARD_COUNT − 1 (gatepass@N.service sets it to N)'],
    [{ SHARD_ID: '3' }, 'SHARD_ID must be below SHARD_COUNT (3): shards are numbered from 0 to 2'],
    [{ SHARD_ID: '-1' }, 'SHARD_ID must be a whole number: the shard this process holds, from 0 to SHARD_COUNT − 1'],
    [{ SHARD_ID: '0x1' }, 'SHARD_ID must be a whole number: the shard this process holds, from 0 to SHARD_COUNT − 1'],
    [{ SHARD_COUNT: '' }, 'SHARD_COUNT is required by a shard process: the number of shards, the same for every shard process'],
    [{ SHARD_COUNT: 'auto' }, "SHARD_COUNT cannot be auto for a shard process run on its own: each would ask Discord separately and they could disagree. Set the number (Discord's recommendation: see README, Run it under systemd)"],
    [{ REST_PROXY_URL: '' }, 'REST_PROXY_URL is required by a shard process: where the REST proxy (node dist/proxy.mjs) listens, e.g. http://127.0.0.1:8950'],
    [{ REST_PROXY_URL: '127.0.0.1:8950' }, 'REST_PROXY_URL must be a URL such as http://127.0.0.1:8950'],
    [{ REST_PROXY_URL: 'http://10.1.2.3:8950' }, 'REST_PROXY_URL must be on the loopback interface (127.0.0.1 or [::1]): the proxy has no authentication of its own'],
    [{ REST_PROXY_URL: 'http://localhost:8950' }, 'REST_PROXY_URL must be on the loopback interface (127.0.0.1 or [::1]): the proxy has no authentication of its own'],
    [{ REST_PROXY_URL: 'http://127.0.0.1' }, 'REST_PROXY_URL must name a port (http://127.0.0.1:8950)'],
    [{ REST_PROXY_URL: 'http://127.0.0.1:8950/api' }, 'REST_PROXY_URL must be only a host and a port (http://127.0.0.1:8950)'],
    [{ REST_PROXY_URL: 'https://127.0.0.1:8950' }, 'REST_PROXY_URL must start with http:// (it never leaves this machine), not https://'],
  ])('%j is refused with one precise line', (change, problem) => {
    const result = loadShardConfig({ ...shard, ...change });
    expect(!result.ok && result.message).toBe(`Configuration error: ${problem}`);
  });

  test('the rules of several processes hold for it too', () => {
    const result = loadShardConfig({ ...shard, DATABASE_URL: 'file:./data/gatepass.db' });
    expect(!result.ok && result.message).toMatch(/^Configuration error: SHARD_COUNT above 1 runs a process per shard, and processes cannot share a SQLite database/);
  });
});

describe('loadProxyConfig: the REST proxy run on its own (dist/proxy.mjs)', () => {
  test('needs only where to listen: no token, no key', () => {
    const result = loadProxyConfig({ REST_PROXY_URL: 'http://127.0.0.1:8950', LOG_FORMAT: 'json' });
    expect(result).toEqual({ ok: true, config: { restProxyUrl: 'http://127.0.0.1:8950', discordApiBaseUrl: 'https://discord.com/api', logLevel: 'info', logFormat: 'json' } });
  });

  test.each([
    [{}, 'REST_PROXY_URL is required by the REST proxy: where it listens, e.g. http://127.0.0.1:8950 (the shard processes read the same value)'],
    [{ REST_PROXY_URL: 'http://0.0.0.0:8950' }, 'REST_PROXY_URL must be on the loopback interface (127.0.0.1 or [::1]): the proxy has no authentication of its own'],
    [{ REST_PROXY_URL: 'http://127.0.0.1:8950', DISCORD_API_BASE_URL: 'discord.com' }, 'DISCORD_API_BASE_URL must be an http(s) URL'],
  ])('%j is refused with one precise line', (env, problem) => {
    const result = loadProxyConfig(env);
    expect(!result.ok && result.message).toBe(`Configuration error: ${problem}`);
  });
});
