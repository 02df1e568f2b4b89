import { ActionRowBuilder, ApplicationCommandOptionType, ButtonBuilder, ButtonStyle, MessageFlags } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, stringOption, UserError } from '../src/commands';
import { refreshRobloxName } from '../src/database/links';
import { onLinked } from '../src/linked';
import { replyEmbed, summarizeServer, timestamp, userMention } from '../src/reports';
import { confirmVerification, findRobloxAccount, startVerification } from '../src/verification';

export const verify: SlashCommand = {
  definition: {
    name: 'verify',
    description: 'Link your Roblox account to get the roles for what you own',
    ...GUILD_ONLY,
    options: [
      { type: ApplicationCommandOptionType.String, name: 'username', description: 'Your Roblox username or numeric user id', required: false, min_length: 1, max_length: 32 },
    ],
  },

  async run(interaction, services) {
    const input = stringOption(interaction, 'username', false, 32);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (input === undefined && services.signIns) {
      const signIn = await services.signIns.start(
        { discordUserId: interaction.user.id, requesterName: interaction.user.username, guildId: interaction.guildId, serverName: interaction.guild.name },
        async (outcome) => {
          const here = outcome.kind === 'linked' ? outcome.sync?.servers.find((s) => s.guildId === interaction.guildId) : undefined;
          await interaction.editReply({
            ...(outcome.kind === 'linked'
              ? replyEmbed(`Linked to ${outcome.robloxName}`, [`${userMention(interaction.user.id)} signed in with Roblox as **${outcome.robloxName}**.`, '', ...(outcome.sync ? summarizeServer(here) : ['Your roles will be updated shortly.'])], 'good')
              : replyEmbed(outcome.title, [`Sign-in did not complete. ${outcome.message}`], 'warning')),
            components: [],
          });
        },
      );
      const button = new ButtonBuilder().setURL(signIn.url).setLabel('Sign in with Roblox').setStyle(ButtonStyle.Link);
      await interaction.editReply({
        content: [
          'Press the button to sign in with Roblox and allow gatepass to read your inventory (private inventories and private servers included).',
          `The link is for you only and works once; it expires ${timestamp(signIn.expiresAt)}. Do not share it.`,
          'Under 13, or prefer not to sign in? Use `/verify username:<your Roblox username>` to link with a code in your profile instead.',
        ].join('\n'),
        components: [new ActionRowBuilder<ButtonBuilder>().addComponents(button)],
      });
      return;
    }
    if (input === undefined) {
      const link = await services.db.link.findUnique({ where: { discordUserId: interaction.user.id } });
      throw new UserError(
        link
          ? `You are linked to **${link.robloxUsername}**. To link a different account, run \`/verify username:<name>\`; to refresh your roles, run \`/update\`.`
          : 'Tell me which Roblox account is yours: `/verify username:<your Roblox username>`.',
      );
    }
    const account = await findRobloxAccount(services.roblox, input);
    if (!account.ok) throw new UserError(account.error);
    await refreshRobloxName(services.db, account.value.id, account.value.name);
    const existing = await services.db.link.findUnique({ where: { discordUserId: interaction.user.id } });
    if (existing?.robloxUserId === account.value.id) {
      throw new UserError(`You are already linked to **${account.value.name}**. Run \`/update\` to refresh your roles.`);
    }
    const pending = await startVerification(services, interaction.user.id, interaction.guildId, account.value);
    const button = new ButtonBuilder().setCustomId(`verify:${pending.id}`).setLabel("I've added the code").setStyle(ButtonStyle.Primary);
    await interaction.editReply({
      content: [
        `To prove **${account.value.name}** (id ${account.value.id}) is yours:`,
        `1. Open https://www.roblox.com/users/${account.value.id}/profile and add this code to your **About**:`,
        `\`\`\`${pending.code}\`\`\``,
        `2. Save, then press the button below. The code works once and expires ${timestamp(pending.expiresAt)}.`,
        'You can remove the code from your profile afterwards.',
      ].join('\n'),
      components: [new ActionRowBuilder<ButtonBuilder>().addComponents(button)],
    });
  },

  button: {
    prefix: 'verify',
    async run(interaction, verificationId, services) {
      const confirmation = await confirmVerification(services, verificationId, interaction.user.id);
      if (confirmation.kind === 'not_yours') {
        // Nothing happens for the presser: the code belongs to whoever ran /verify.
        await interaction.reply({ content: 'This button belongs to someone else\'s verification. Run `/verify` to link your own account.', flags: MessageFlags.Ephemeral });
        return;
      }
      await interaction.deferUpdate();
      if (confirmation.kind === 'failed') {
        await interaction.editReply({ content: confirmation.error, ...(confirmation.retry ? {} : { components: [] }) });
        return;
      }
      const result = await onLinked(services, { discordUserId: interaction.user.id, guildId: interaction.guildId, robloxUserId: confirmation.robloxUserId, robloxUsername: confirmation.robloxUsername, proof: 'a profile code', previousHolder: confirmation.previousHolder });
      const here = result.servers.find((s) => s.guildId === interaction.guildId);
      await interaction.editReply({
        ...replyEmbed(`Linked to ${confirmation.robloxUsername}`, [`Linked ${userMention(interaction.user.id)} to **${confirmation.robloxUsername}**. You can remove the code from your profile now.`, '', ...summarizeServer(here)], 'good'),
        components: [],
      });
    },
  },
};
