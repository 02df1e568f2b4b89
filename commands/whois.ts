import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, stringOption, UserError } from '../src/commands';
import { timestamp, userMention } from '../src/reports';
import { findRobloxAccount } from '../src/verification';

export const whois: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageRoles },
  definition: {
    name: 'whois',
    description: 'Find the member of this server linked to a Roblox account',
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageRoles.toString(),
    options: [{ type: ApplicationCommandOptionType.String, name: 'roblox', description: 'Roblox username or numeric user id', required: true, min_length: 1, max_length: 32 }],
  },

  async run(interaction, services) {
    const input = stringOption(interaction, 'roblox', true, 32)!;
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    // A numeric id needs no Roblox call; a name is resolved (and so is checked to exist).
    const trimmed = input.trim();
    const account = /^\d{1,19}$/.test(trimmed) ? { id: String(BigInt(trimmed)), name: undefined } : await findRobloxAccount(services.roblox, trimmed, `whois:${interaction.user.id}`).then((found) => {
      if (!found.ok) throw new UserError(found.error);
      return { id: found.value.id, name: found.value.name };
    });
    const link = await services.db.link.findUnique({ where: { robloxUserId: account.id } });
    // Links are global, but this answer only ever names members of this server.
    const server = services.discord.server(interaction.guildId);
    const member = link && server ? await server.readMember(link.discordUserId) : undefined;
    if (member?.kind === 'error') throw new UserError(`Could not read the member list just now (${member.detail}); try again shortly.`);
    if (!link || member?.kind !== 'member') {
      // Not the link's stored name: that would tell that the account is linked, somewhere.
      await interaction.editReply(`No member of this server is linked to Roblox **${account.name ?? account.id}** (id ${account.id}).`);
      return;
    }
    const label = `**${link.robloxUsername}** (id ${account.id})`;
    const how = link.method === 'oauth' ? 'Sign in with Roblox' : 'a profile code';
    await interaction.editReply(`Roblox ${label} is linked to ${userMention(link.discordUserId)}, since ${timestamp(link.linkedAt)} (proven with ${how}).`);
  },
};
