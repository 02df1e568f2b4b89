// Routes each interaction to its command. Every command passes through here, so this is where
// who may run it is decided (src/permissions.ts) and where a member of another server is kept out
// of every answer. And it is the one place where a failure becomes a reply: a UserError is shown
// as written; anything else is logged and answered with a safe message.

import { type Interaction, MessageFlags, type RepliableInteraction } from 'discord.js';
import { randomUUID } from 'node:crypto';
import { outsiderNamed, type Services, type SlashCommand, UserError, userOptionId } from './commands';
import { commandRefusal } from './permissions';
import { userMention } from './reports';

export function interactionRouter(commands: readonly SlashCommand[], services: Services) {
  const byName = new Map(commands.map((c) => [c.definition.name, c]));
  const byPrefix = new Map(commands.flatMap((c) => (c.button ? [[c.button.prefix, c.button] as const] : [])));

  return async function route(interaction: Interaction): Promise<void> {
    if (!interaction.isChatInputCommand() && !interaction.isButton()) return;
    try {
      if (!interaction.inCachedGuild()) throw new UserError('gatepass works inside a server, not in direct messages.');
      if (interaction.isChatInputCommand()) {
        const command = byName.get(interaction.commandName);
        if (!command) throw new UserError(`Unknown command \`/${interaction.commandName}\`.`);
        const refusal = commandRefusal(interaction.member, command.definition.name, command.permission, (name) => userOptionId(interaction, name));
        if (refusal) throw new UserError(refusal);
        const outsider = outsiderNamed(interaction);
        // Echoed only when it is an id: a hostile payload's 10,000-character "user" is not repeated.
        if (outsider) throw new UserError(`${/^\d{17,20}$/.test(outsider) ? userMention(outsider) : 'That user'} is not a member of this server.`);
        await command.run(interaction, services);
      } else {
        const [prefix = '', argument = ''] = interaction.customId.split(':', 2);
        const button = byPrefix.get(prefix);
        if (!button || argument === '') throw new UserError('This button is no longer in use.');
        await button.run(interaction, argument, services);
      }
    } catch (error) {
      await answerFailure(interaction, error, services);
    }
  };
}

async function answerFailure(interaction: RepliableInteraction, error: unknown, services: Services): Promise<void> {
  let content: string;
  if (error instanceof UserError) {
    content = error.message;
  } else {
    const ref = randomUUID().slice(0, 8);
    services.log.error({ err: error, ref, user: interaction.user.id, guildId: interaction.guildId }, 'interaction failed');
    content = `Something went wrong on our side (reference ${ref}). Nothing was changed by the failed step; please try again.`;
  }
  try {
    if (interaction.deferred || interaction.replied) await interaction.editReply({ content, components: [] });
    else await interaction.reply({ content, flags: MessageFlags.Ephemeral });
  } catch (replyError) {
    // The interaction may have expired; there is no one left to tell but the log.
    services.log.warn({ err: replyError, user: interaction.user.id }, 'could not answer an interaction');
  }
}
