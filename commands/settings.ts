import { ApplicationCommandOptionType, ChannelType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { channelOption, GUILD_ONLY, roleOption, type SlashCommand, subcommand, UserError } from '../src/commands';
import { roleMention } from '../src/reports';
import { chooseUnverifiedRole, unverifiedRoleOf } from '../src/unverifiedrole';

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
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'unverified-role',
        description: 'A role for members without a linked Roblox account (leave empty to stop)',
        options: [{ type: ApplicationCommandOptionType.Role, name: 'role', description: 'Given while a member has no link; taken when they link', required: false }],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'show', description: "Show this server's settings" },
    ],
  },

  async run(interaction, services) {
    const action = subcommand(interaction, ['log-channel', 'unverified-role', 'show']);
    if (action === 'show') {
      const channelId = await services.serverLog.channelOf(interaction.guildId);
      const unverified = await unverifiedRoleOf(services.db, interaction.guildId);
      const lines = [
        `Log channel: ${channelId ? `<#${channelId}>` : 'none (set one with `/settings log-channel`)'}.`,
        `Unverified role: ${unverified ? roleMention(unverified) : 'none (set one with `/settings unverified-role`)'}.`,
      ];
      await interaction.reply({ content: lines.join('\n'), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    if (action === 'unverified-role') {
      const role = roleOption(interaction, 'role', false);
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const chosen = await chooseUnverifiedRole(services, interaction.member, role);
      if (!chosen.ok) throw new UserError(chosen.error);
      services.log.info({ guildId: interaction.guildId, by: interaction.user.id, roleId: role?.id ?? null }, 'unverified role set');
      await interaction.editReply(chosen.reply);
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
