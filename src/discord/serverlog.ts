// Each server's log channel (/settings log-channel): what the bot did there and why, for its staff.
// Posting is best effort: a log that cannot be written never stops a sync or a command.

import { type Client, Routes } from 'discord.js';
import type { Database } from '../database/client';
import type { Logger } from '../log';
import { fitMessage } from '../reports';

export interface ServerLog {
  /** Posts to the server's log channel, if it has one; the lines are fitted into one message. */
  post(guildId: string, lines: string[]): Promise<void>;
  /** Posts to every server that has a log channel and that this process holds (every shard process posts to its own). */
  postEverywhere(lines: string[]): Promise<void>;
  channelOf(guildId: string): Promise<string | null>;
  /** Sets (or with null clears) the channel; throws when the bot cannot post there. */
  setChannel(guildId: string, channelId: string | null): Promise<void>;
}

export function createServerLog(client: Client, db: Database, log: Logger): ServerLog {
  const cache = new Map<string, string | null>();

  const channelOf = async (guildId: string) => {
    if (!cache.has(guildId)) cache.set(guildId, (await db.serverSettings.findUnique({ where: { guildId } }))?.logChannelId ?? null);
    return cache.get(guildId)!;
  };
  const send = (channelId: string, lines: string[]) =>
    client.rest.post(Routes.channelMessages(channelId), { body: { content: fitMessage(lines), allowed_mentions: { parse: [] } } });

  const post = async (guildId: string, lines: string[]) => {
    const channelId = await channelOf(guildId).catch(() => null);
    if (!channelId) return;
    await send(channelId, lines).catch((error: unknown) => log.warn({ err: error, guildId, channelId }, 'could not post to the log channel (does the bot still have View Channel and Send Messages there?)'));
  };

  return {
    post,
    channelOf,
    async postEverywhere(lines) {
      const servers = await db.serverSettings.findMany({ where: { NOT: { logChannelId: null } }, select: { guildId: true } });
      await Promise.all(servers.filter((s) => client.guilds.cache.has(s.guildId)).map((s) => post(s.guildId, lines)));
    },
    async setChannel(guildId, channelId) {
      // A first message proves the bot can post there before the setting is saved.
      if (channelId) await send(channelId, ['📋 gatepass will post its log here: links, unlinks, bind changes, role changes from syncs and alerts.']);
      await db.serverSettings.upsert({ where: { guildId }, create: { guildId, logChannelId: channelId }, update: { logChannelId: channelId } });
      cache.set(guildId, channelId);
    },
  };
}
