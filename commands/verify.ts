import { ActionRowBuilder, ApplicationCommandOptionType, ButtonBuilder, ButtonStyle, MessageFlags } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, stringOption, UserError } from '../src/commands';
import { refreshRobloxName } from '../src/database/links';
import { onLinked } from '../src/linked';
import { replyEmbed, summarizeServer, timestamp, userMention } from '../src/reports';
import { confirmVerification, findRobloxAccount, pendingVerification, startVerification } from '../src/verification';
import { type WaitingNotice, waitingNotice } from '../src/waiting';

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
    if (input === undefined) await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (input === undefined && services.signIns) {
      // Shown only if finishing the sign-in waits on Roblox; it starts with the first report of a wait.
      let finishing: WaitingNotice | undefined;
      const signIn = await services.signIns.start(
        { discordUserId: interaction.user.id, requesterName: interaction.user.username, guildId: interaction.guildId, serverName: interaction.guild.name },
        async (outcome) => {
          await finishing?.finish();
          const here = outcome.kind === 'linked' ? outcome.sync?.servers.find((s) => s.guildId === interaction.guildId) : undefined;
          await interaction.editReply({
            ...(outcome.kind === 'linked'
              ? replyEmbed(`Linked to ${outcome.robloxName}`, [`${userMention(interaction.user.id)} signed in with Roblox as **${outcome.robloxName}**.`, '', ...(outcome.sync ? summarizeServer(here) : ['Your roles will be updated shortly.'])], 'good')
              : replyEmbed(outcome.title, [`Sign-in did not complete. ${outcome.message}`], 'warning')),
            components: [],
          });
        },
        (wait) => {
          finishing ??= waitingNotice((content) => interaction.editReply({ content, components: [] }), { purpose: 'to finish your sign-in', idle: 'Signed in with Roblox; finishing the link…' });
          finishing.update(wait);
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
    // No deferral: a quick answer is the first response itself, and a slow one is preceded by the
    // member's place in line (a response too, well inside Discord's 3 seconds). Every edit saved
    // matters in a rush, as discord.js holds all of them to 50 requests a second.
    const answer = (payload: { content: string; components: ActionRowBuilder<ButtonBuilder>[] }) =>
      interaction.replied ? interaction.editReply(payload) : interaction.reply({ ...payload, flags: MessageFlags.Ephemeral });
    const notice = waitingNotice((content) => answer({ content, components: [] }), { purpose: 'to look up your Roblox account', idle: 'Looking up your Roblox account…' });
    const { account, pending } = await (async () => {
      const found = await findRobloxAccount(services.roblox, input, interaction.user.id, notice.update);
      if (!found.ok) throw new UserError(found.error);
      await refreshRobloxName(services.db, found.value.id, found.value.name);
      const existing = await services.db.link.findUnique({ where: { discordUserId: interaction.user.id } });
      if (existing?.robloxUserId === found.value.id) {
        throw new UserError(`You are already linked to **${found.value.name}**. Run \`/update\` to refresh your roles.`);
      }
      return { account: found.value, pending: await startVerification(services, interaction.user.id, interaction.guildId, found.value) };
    })().finally(notice.finish);
    const button = new ButtonBuilder().setCustomId(`verify:${pending.id}`).setLabel("I've added the code").setStyle(ButtonStyle.Primary);
    await answer({
      content: [
        `To prove **${account.name}** (id ${account.id}) is yours:`,
        `1. Open https://www.roblox.com/users/${account.id}/profile and add this code to your **About**:`,
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
      const found = await pendingVerification(services, verificationId, interaction.user.id);
      if (found.kind === 'not_yours') {
        // Nothing happens for the presser: the code belongs to whoever ran /verify.
        await interaction.reply({ content: 'This button belongs to someone else\'s verification. Run `/verify` to link your own account.', flags: MessageFlags.Ephemeral });
        return;
      }
      // Acknowledged before Roblox is asked: its line may be longer than Discord's 3 seconds.
      await interaction.deferUpdate();
      const reading = waitingNotice((content) => interaction.editReply({ content }), { purpose: 'to read your profile', idle: 'Reading your Roblox profile for the code…' });
      const confirmation = found.kind === 'pending' ? await confirmVerification(services, found.pending, reading.update).finally(reading.finish) : found;
      if (confirmation.kind === 'failed') {
        await interaction.editReply({ content: confirmation.error, ...(confirmation.retry ? {} : { components: [] }) });
        return;
      }
      const checking = waitingNotice((content) => interaction.editReply({ content, components: [] }), { purpose: '', idle: `Linked to **${confirmation.robloxUsername}**. Checking what you own for your roles…` });
      const result = await onLinked(services, { discordUserId: interaction.user.id, guildId: interaction.guildId, robloxUserId: confirmation.robloxUserId, robloxUsername: confirmation.robloxUsername, proof: 'a profile code', previousHolder: confirmation.previousHolder }).finally(checking.finish);
      const here = result.servers.find((s) => s.guildId === interaction.guildId);
      await interaction.editReply({
        ...replyEmbed(`Linked to ${confirmation.robloxUsername}`, [`Linked ${userMention(interaction.user.id)} to **${confirmation.robloxUsername}**. You can remove the code from your profile now.`, '', ...summarizeServer(here)], 'good'),
        components: [],
      });
    },
  },
};
