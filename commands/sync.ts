import { MessageFlags, PermissionFlagsBits } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, UserError } from '../src/commands';

export const sync: SlashCommand = {
  definition: {
    name: 'sync',
    description: "Re-check every linked member of this server now",
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageRoles.toString(),
  },

  async run(interaction, services) {
    if (!interaction.memberPermissions.has(PermissionFlagsBits.ManageRoles)) throw new UserError('`/sync` needs the Manage Roles permission.');
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const totals = await services.runs.runServer(interaction.guildId);
    await interaction.editReply(
      `Re-checked ${totals.checked} linked member(s): ${totals.added} role(s) given, ${totals.removed} removed, ` +
        `${totals.unknown} ownership answer(s) unknown (roles kept), ${totals.problems} problem(s)${totals.problems > 0 ? ' (see `/check`)' : ''}.`,
    );
  },
};
