import { ApplicationCommandOptionType, ChannelType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { channelOption, GUILD_ONLY, type SlashCommand, subcommand, UserError } from '../src/commands';

export const settings: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageGuild },
  definition: {
    name: 'settings',
    description: "This server's gatepass settings",
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'log-channel',
        description: 'Where to post links, unlinks, bind changes, role changes and alerts (leave empty to stop)',
        options: [{ type: ApplicationCommandOptionType.Channel, name: 'channel', description: 'A text channel the bot can post in', required: false, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] }],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'show', description: "Show this server's settings" },
    ],
  },

  async run(interaction, services) {
    const action = subcommand(interaction, ['log-channel', 'show']);
    if (action === 'show') {
      const channelId = await services.serverLog.channelOf(interaction.guildId);
      await interaction.reply({ content: `Log channel: ${channelId ? `<#${channelId}>` : 'none (set one with `/settings log-channel`)'}.`, flags: MessageFlags.Ephemeral });
      return;
    }
    const channel = channelOption(interaction, 'channel', false);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    try {
      await services.serverLog.setChannel(interaction.guildId, channel?.id ?? null);
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 403 || status === 404) throw new UserError(`I cannot post in <#${channel!.id}>: give me View Channel and Send Messages there, then try again. Nothing was changed.`);
      throw error;
    }
    services.log.info({ guildId: interaction.guildId, by: interaction.user.id, channelId: channel?.id ?? null }, 'log channel set');
    await interaction.editReply(channel ? `I will post my log in <#${channel.id}>.` : 'Log channel turned off.');
  },
};
