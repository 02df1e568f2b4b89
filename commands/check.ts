import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { GUILD_ONLY, type SlashCommand, UserError, userOption } from '../src/commands';
import { type Bind, groupOf } from '../src/bindings';
import { bindsByServer } from '../src/database/binds';
import { loadOutcomes, splitAnswers } from '../src/database/outcomes';
import { nicknameLine } from '../src/nicknamesettings';
import { INVENTORY_SCOPE } from '../src/roblox/oauth';
import { bindLines, describePlanChanges, describeTallies, replyEmbed, roleMention, timestamp, userMention } from '../src/reports';
import { planRoles, type RoleAccess } from '../src/roleplan';

export const check: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageRoles },
  definition: {
    name: 'check',
    description: "See a member's linked Roblox account, each bind's outcome and what the next sync would change",
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageRoles.toString(),
    options: [{ type: ApplicationCommandOptionType.User, name: 'member', description: 'The member to look at', required: true }],
  },

  async run(interaction, services) {
    const target = userOption(interaction, 'member', true)!;
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const server = services.discord.server(interaction.guildId);
    if (!server) throw new UserError('This server is not available to the bot right now; try again shortly.');
    // Membership first: a user's link and outcomes are shown only where they are a member.
    const member = await server.readMember(target.id);
    if (member.kind === 'absent') throw new UserError(`${userMention(target.id)} is not a member of this server.`);
    if (member.kind === 'error') throw new UserError(`Could not read their membership just now (${member.detail}); try again shortly.`);
    const [link, grant, synced, binds] = await Promise.all([
      services.db.link.findUnique({ where: { discordUserId: target.id } }),
      services.db.oAuthGrant.findUnique({ where: { discordUserId: target.id } }),
      services.db.memberSync.findUnique({ where: { guildId_discordUserId: { guildId: interaction.guildId, discordUserId: target.id } } }),
      bindsByServer(services.db, [interaction.guildId]).then((m) => m.get(interaction.guildId) ?? []),
    ]);
    const title = `Roblox link of ${target.username}`;
    const lines = [
      link
        ? `${userMention(target.id)} is linked to Roblox **${link.robloxUsername}** (id ${link.robloxUserId}) since ${timestamp(link.linkedAt)}; last checked ${link.checkedAt ? timestamp(link.checkedAt) : 'never'}.`
        : `${userMention(target.id)} has no linked Roblox account.`,
    ];
    if (link) lines.push(`Proof: ${describeProof(link.method, grant && grant.robloxUserId === link.robloxUserId ? grant : null)}`);
    if (synced?.problem) lines.push(`Problem here since ${timestamp(synced.since)}: ${synced.problem}`);
    const nickname = await nicknameLine(services.db, server, { ...member, id: target.id }, link ?? undefined);
    if (nickname) lines.push(nickname);
    if (binds.length === 0) {
      lines.push('This server has no binds (`/bind add`).');
      await interaction.editReply(replyEmbed(title, lines));
      return;
    }
    const stored = link ? ((await loadOutcomes(services.db, [link.robloxUserId])).get(link.robloxUserId) ?? new Map()) : new Map();
    const { outcomes, tallies, ranks } = splitAnswers([...stored].map(([key, s]) => [key, s.outcome]));
    const access = new Map<string, RoleAccess>(binds.map((b) => [b.roleId, server.roleAccess(b.roleId)]));
    const plan = planRoles({ binds, linked: link !== null, outcomes, tallies, ranks, memberRoles: member.roles, roles: access });
    if (link && tallies.size > 0) lines.push(`Collectibles: ${describeTallies(tallies)}.`);
    lines.push('', 'Binds:');
    for (const decision of plan.decisions) {
      for (const answer of decision.binds) lines.push(...bindLines(answer, stored.get(storedKey(answer.bind))?.since));
    }
    lines.push('', `Next sync would: ${describePlanChanges(plan)}.`);
    const blocked = plan.decisions.filter((d) => d.blocked);
    if (blocked.length > 0) lines.push('Blocked:', ...blocked.map((d) => `• ${roleMention(d.roleId)}: ${d.blocked}`));
    await interaction.editReply(replyEmbed(title, lines));
  },
};

/** Where a bind's answer is stored: a group bind's is its group's rank, shared by every range. */
const storedKey = (bind: Bind) => (bind.kind === 'group' ? `group:${groupOf(bind).groupId}` : `${bind.kind}:${bind.itemId}`);

function describeProof(method: string, grant: { status: string; scopes: string } | null): string {
  if (method !== 'oauth') return grant?.status === 'active' ? 'profile code; also signed in with Roblox (consent current).' : 'profile code in their Roblox About. Their inventory is read with the bot\'s API key, so it must be public.';
  if (!grant) return 'Sign in with Roblox; no consent stored (read with the API key).';
  if (grant.status !== 'active') return 'Sign in with Roblox, but the consent was withdrawn or expired: read with the API key until they run `/verify` again.';
  if (!grant.scopes.split(' ').includes(INVENTORY_SCOPE)) return 'Sign in with Roblox, without inventory access: read with the API key.';
  return 'Sign in with Roblox; consent current (their own inventory access, private servers included).';
}
