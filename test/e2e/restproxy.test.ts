// The REST proxy (src/restproxy.ts), which every shard process sends its Discord requests
// through: a request Discord answers with a 429 or a 5xx is retried by the proxy's own queue, and
// the retry must carry the body the shard process sent (a nickname, an interaction's answer).

import { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/log';
import { type RestProxy, startRestProxy } from '../../src/restproxy';
import type { DiscordFault } from '../fakes/discord';
import { createWorld, destroyWorld, newMember, type World } from '../harness';

let world: World;
let proxy: RestProxy;
/** A shard process's REST client: no retries of its own, as src/bot.ts sets it up behind the proxy. */
let shard: REST;

beforeAll(async () => {
  world = await createWorld();
  proxy = await startRestProxy({ discordApiBaseUrl: world.config.discordApiBaseUrl, host: '127.0.0.1', port: 0, log: createLogger('silent') });
  shard = new REST({ api: proxy.apiUrl, retries: 0 }).setToken(world.config.discordToken);
});
afterAll(async () => {
  await proxy?.close();
  await destroyWorld(world);
});

const failures: Record<string, DiscordFault> = {
  '503': { status: 503, body: { message: 'Service Unavailable', code: 0 } },
  '429': { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.05, global: false, code: 0 }, headers: { 'retry-after': '0.05', 'x-ratelimit-scope': 'user' } },
};

describe('the REST proxy of the shard processes', () => {
  test.each(Object.keys(failures))('a nickname write Discord first answers with %s arrives again with its body', async (name) => {
    const member = newMember(world, world.guild.id, `renamed${name}`);
    let failed = false;
    world.discord.fault = (method, template) => {
      if (method !== 'PATCH' || template !== '/guilds/{guild_id}/members/{user_id}' || failed) return undefined;
      failed = true;
      return failures[name];
    };
    try {
      await shard.patch(Routes.guildMember(world.guild.id, member), { body: { nick: `Nick${name}` }, reason: 'gatepass: test' });
    } finally {
      world.discord.fault = undefined;
    }
    expect(failed).toBe(true);
    expect(world.discord.nickOf(world.guild.id, member)).toBe(`Nick${name}`);
    expect(world.discord.nickWrites.filter((w) => w.userId === member).map((w) => w.status)).toEqual([200]);
    expect(world.discord.specErrors).toEqual([]);
  });
});
