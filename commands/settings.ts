import { ApplicationCommandOptionType, ChannelType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { channelOption, GUILD_ONLY, roleOption, type SlashCommand, stringOption, subcommand, UserError } from '../src/commands';
import { roleMention } from '../src/reports';
import { settingsOf } from '../src/database/settings';
import { chooseNicknameBypass, chooseNicknameTemplate } from '../src/nicknamesettings';
import { chooseUnverifiedRole } from '../src/unverifiedrole';

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
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'nickname',
        description: 'Nicknames from the linked Roblox account, e.g. {smart-name} (leave empty to stop)',
        options: [{ type: ApplicationCommandOptionType.String, name: 'template', description: '{roblox-name} {display-name} {smart-name} {roblox-id} {discord-name} {group-rank:<group id>}', required: false, max_length: 100 }],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'nickname-bypass',
        description: 'Members with this role keep their nickname (leave empty to clear)',
        options: [{ type: ApplicationCommandOptionType.Role, name: 'role', description: 'The bypass role', required: false }],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'show', description: "Show this server's settings" },
    ],
  },

  async run(interaction, services) {
    const action = subcommand(interaction, ['log-channel', 'unverified-role', 'nickname', 'nickname-bypass', 'show']);
    if (action === 'show') {
      const channelId = await services.serverLog.channelOf(interaction.guildId);
      const stored = await settingsOf(services.db, interaction.guildId);
      const lines = [
        `Log channel: ${channelId ? `<#${channelId}>` : 'none (set one with `/settings log-channel`)'}.`,
        `Unverified role: ${stored.unverifiedRoleId ? roleMention(stored.unverifiedRoleId) : 'none (set one with `/settings unverified-role`)'}.`,
        `Nickname template: ${stored.nicknameTemplate ? `\`${stored.nicknameTemplate}\`` : 'none (set one with `/settings nickname`)'}.`,
        `Nickname bypass role: ${stored.nicknameBypassRoleId ? roleMention(stored.nicknameBypassRoleId) : 'none'}.`,
      ];
      await interaction.reply({ content: lines.join('\n'), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
      return;
    }
    if (action !== 'log-channel') {
      const role = action === 'nickname' ? undefined : roleOption(interaction, 'role', false);
      const template = action === 'nickname' ? stringOption(interaction, 'template', false) : undefined;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      const chosen =
        action === 'unverified-role'
          ? await chooseUnverifiedRole(services, interaction.member, role)
          : action === 'nickname'
            ? await chooseNicknameTemplate(services, interaction.member, template)
            : await chooseNicknameBypass(services, interaction.member, role);
      if (!chosen.ok) throw new UserError(chosen.error);
      services.log.info({ guildId: interaction.guildId, by: interaction.user.id, setting: action, roleId: role?.id, template }, 'setting changed');
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
