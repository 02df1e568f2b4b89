// `npm run deploy-commands [-- --guild <id>]`: registers the slash commands explicitly.
// `npm start` already does this when they differ; --guild makes them appear instantly in one server.

import 'dotenv/config';
import { REST } from '@discordjs/rest';
import { Routes } from 'discord.js';
import { COMMANDS } from '../commands/index';
import { loadConfig } from './config';

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const { config } = loaded;
const guildFlag = process.argv.indexOf('--guild');
const guildId = guildFlag === -1 ? undefined : process.argv[guildFlag + 1];
if (guildFlag !== -1 && !/^\d{17,20}$/.test(guildId ?? '')) {
  console.error('--guild needs a server id (Discord: right-click the server → Copy Server ID)');
  process.exit(1);
}
const rest = new REST({ api: config.discordApiBaseUrl }).setToken(config.discordToken);
const route = guildId ? Routes.applicationGuildCommands(config.discordApplicationId, guildId) : Routes.applicationCommands(config.discordApplicationId);
try {
  const body = COMMANDS.map((c) => c.definition);
  await rest.put(route, { body });
  console.log(`Registered ${body.length} commands ${guildId ? `in server ${guildId}` : 'globally (may take a few minutes to appear)'}.`);
} catch (error) {
  console.error(`Registering commands failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
