import type { Bot } from '../../src/bot';

/**
 * Until what a bot began lands: join-time syncs, the unverified-role pass of a start. A member
 * request through the gateway is answered after every event sent before it on that shard, so one
 * per server it holds means every event sent so far has been handled.
 */
export async function settle(bot: Bot): Promise<void> {
  await Promise.all(bot.client.guilds.cache.map((guild) => guild.members.fetch({ user: [guild.ownerId] })));
  await bot.eventsSettled();
  await bot.unverifiedReady();
}
