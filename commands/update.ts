import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, UserError, userOption } from '../src/commands';
import { fitMessage, summarizeServer, userMention } from '../src/reports';

export const update: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageRoles, forOption: 'member' },
  definition: {
    name: 'update',
    description: 'Re-check Roblox ownership now and fix roles',
    ...GUILD_ONLY,
    options: [{ type: ApplicationCommandOptionType.User, name: 'member', description: 'Someone else to re-check (needs Manage Roles)', required: false }],
  },

  async run(interaction, services) {
    const target = userOption(interaction, 'member', false) ?? interaction.user;
    const self = target.id === interaction.user.id;
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const link = await services.db.link.findUnique({ where: { discordUserId: target.id } });
    if (!link) throw new UserError(self ? 'You have not linked a Roblox account yet: run `/verify`.' : `${userMention(target.id)} has not linked a Roblox account.`);
    if (!self) services.share.claim(interaction.guildId, 1);
    // This server too, whatever the membership index says: the command came from here.
    const result = await services.sync.one(target.id, { priority: true, alsoIn: interaction.guildId });
    if (!self) services.share.spend(interaction.guildId, 1);
    const here = result.servers.find((s) => s.guildId === interaction.guildId);
    // They left since Discord sent the command: nothing about them is shown here any more.
    if (!self && !here?.present) throw new UserError(`${userMention(target.id)} is not a member of this server.`);
    await interaction.editReply(fitMessage([`Re-checked ${self ? 'you' : userMention(target.id)} (Roblox **${link.robloxUsername}**).`, ...summarizeServer(here)]));
  },
};
