import { MessageFlags } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, UserError } from '../src/commands';
import { fitMessage, summarizeServer, userMention } from '../src/reports';

export const unlink: SlashCommand = {
  definition: { name: 'unlink', description: 'Unlink your Roblox account; roles it earned are removed', ...GUILD_ONLY },

  async run(interaction, services) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const discordUserId = interaction.user.id;
    const removed = await services.links.remove(discordUserId);
    if (!removed) throw new UserError('You have no linked Roblox account.');
    services.log.info({ discordUserId, robloxUserId: removed.robloxUserId }, 'account unlinked');
    await services.serverLog.post(interaction.guildId, [`✂️ ${userMention(discordUserId)} unlinked Roblox **${removed.robloxUsername}** (id ${removed.robloxUserId}).`]);
    // The consent goes too: revoked at Roblox, and deleted here even when Roblox cannot be told.
    const revoked = await services.grants?.forget(discordUserId);
    const result = await services.sync.one(discordUserId, { priority: true, alsoIn: interaction.guildId });
    const here = result.servers.find((s) => s.guildId === interaction.guildId);
    const consent =
      revoked === undefined
        ? []
        : revoked
          ? ['Your Roblox sign-in was revoked: gatepass can no longer read your inventory.']
          : ['Your Roblox sign-in was deleted here, but Roblox could not be told just now: you can also remove gatepass from the apps allowed in your Roblox account settings.'];
    await interaction.editReply(fitMessage([`Unlinked **${removed.robloxUsername}**.`, ...consent, ...summarizeServer(here)]));
  },
};
