import { MessageFlags, PermissionFlagsBits } from 'discord.js';
import { GUILD_ONLY, type SlashCommand } from '../src/commands';
import type { ServerProgress } from '../src/sync/runs';

/** Discord allows a handful of edits per few seconds per message; progress needs far fewer. */
const EDIT_EVERY_MS = 2_000;

export const sync: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageRoles },
  definition: {
    name: 'sync',
    description: 'Re-check every linked member of this server now',
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageRoles.toString(),
  },

  async run(interaction, services) {
    services.share.claim(interaction.guildId, 1);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    // The first progress line comes after a couple of seconds: a quick sync shows only its summary.
    let lastEdit = services.clock.now();
    let editing: Promise<unknown> = Promise.resolve();
    let spent = 0;
    const show = (progress: ServerProgress) => {
      services.share.spend(interaction.guildId, progress.done - spent);
      spent = progress.done;
      const now = services.clock.now();
      if (now - lastEdit < EDIT_EVERY_MS || progress.done === progress.total) return;
      lastEdit = now;
      // One edit at a time, in order; a failed edit only loses a progress line.
      editing = editing.then(() => interaction.editReply(describe(progress, false))).catch(() => undefined);
    };
    const result = await services.runs.runServer(interaction.guildId, show);
    if (result.kind === 'busy') {
      await interaction.editReply(`A sync of this server is already running: ${result.progress.done} of ${result.progress.total} checked. Its summary goes to whoever started it; run \`/sync\` again when it is done.`);
      return;
    }
    // Members without a link are not in a sync of linked members: the unverified role's pass walks them.
    await services.unverifiedPass.startWhereSet([interaction.guildId]);
    await editing;
    await interaction.editReply(describe(result.progress, true));
  },
};

function describe({ done, total, totals }: ServerProgress, finished: boolean): string {
  const counts = `${totals.added} role(s) given, ${totals.removed} removed, ${totals.unknown} ownership answer(s) unknown (roles kept), ${totals.problems} problem(s)${totals.problems > 0 ? ' (see `/check`)' : ''}`;
  return finished ? `Sync finished: re-checked ${totals.checked} linked member(s): ${counts}.` : `Syncing… ${done} of ${total} linked member(s) checked: ${counts} so far.`;
}
