import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits, type Role } from 'discord.js';
import { BIND_KINDS, type Bind, describeBind, isBindKind, KIND_LABELS, MAX_BINDS_PER_SERVER, MAX_ITEM_ID, NAMED_KINDS } from '../src/bindings';
import { GUILD_ONLY, type GuildCommand, integerOption, roleOption, type Services, type SlashCommand, stringOption, subcommand, UserError } from '../src/commands';
import { bindsByServer, removeBind, setApproval } from '../src/database/binds';
import { isUniqueViolation } from '../src/database/client';
import { describePermissions, elevatedIn, roleRefusal } from '../src/permissions';
import { fitMessage, roleMention, userMention } from '../src/reports';

const typeOption = {
  type: ApplicationCommandOptionType.String,
  name: 'type',
  description: 'What must be owned',
  required: true,
  choices: BIND_KINDS.map((kind) => ({ name: KIND_LABELS[kind], value: kind })),
} as const;
const roleOptionDefinition = { type: ApplicationCommandOptionType.Role, name: 'role', description: 'The Discord role', required: true } as const;
const idOption = {
  type: ApplicationCommandOptionType.Integer,
  name: 'id',
  description: 'The Roblox id of the game pass, badge, asset or private server (not for "verified")',
  required: false,
  min_value: 1,
  max_value: MAX_ITEM_ID,
} as const;

export const bind: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageGuild },
  definition: {
    name: 'bind',
    description: 'Manage which Roblox items earn which roles',
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
    options: [
      { type: ApplicationCommandOptionType.Subcommand, name: 'add', description: 'Give a role to members who own a Roblox item', options: [typeOption, roleOptionDefinition, idOption] },
      { type: ApplicationCommandOptionType.Subcommand, name: 'remove', description: 'Remove a bind (the role itself is left on members)', options: [typeOption, roleOptionDefinition, idOption] },
      { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: "List this server's binds" },
    ],
  },

  async run(interaction, services) {
    const action = subcommand(interaction, ['add', 'remove', 'list']);
    if (action === 'list') return list(interaction, services);
    const target = readBind(interaction);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    return action === 'add' ? add(interaction, services, target) : remove(interaction, services, target);
  },
};

function readBind(interaction: GuildCommand): Bind {
  const kind = stringOption(interaction, 'type', true);
  if (!isBindKind(kind)) throw new UserError(`\`type\` must be one of ${BIND_KINDS.join(', ')}.`);
  const role = roleOption(interaction, 'role', true);
  const id = integerOption(interaction, 'id', false, 1, MAX_ITEM_ID);
  if (kind === 'verified' && id !== undefined) throw new UserError('A `verified` bind takes no `id`: it gives the role to every linked member.');
  if (kind !== 'verified' && id === undefined) throw new UserError(`A ${KIND_LABELS[kind]} bind needs the \`id\` of the ${KIND_LABELS[kind]}.`);
  return { roleId: role.id, kind, itemId: id === undefined ? '' : String(id) };
}

async function add(interaction: GuildCommand, services: Services, target: Bind): Promise<void> {
  const role = boundRole(interaction, target, 'bind');
  // Elevated but not yet approved is no obstacle here: binding it is the approval.
  const access = services.discord.server(interaction.guildId)?.roleAccess(target.roleId) ?? { ok: false, reason: 'this server is not available to the bot' };
  if (!access.ok && !access.removeOnly) throw new UserError(`I cannot manage ${roleMention(target.roleId)}: ${access.reason}. Nothing was saved.`);
  const count = await services.db.bind.count({ where: { guildId: interaction.guildId } });
  if (count >= MAX_BINDS_PER_SERVER) throw new UserError(`This server already has ${count} binds, the most allowed. Remove one first.`);
  const named: Bind = { ...target, ...(await services.itemNames.forNewBind(target)) };
  const key = { guildId: interaction.guildId, roleId: target.roleId, kind: target.kind, itemId: target.itemId };
  // Only the owner or an Administrator gets this far with a role that has any (src/permissions.ts).
  const approved = elevatedIn(role.permissions.bitfield);
  const approval = approved === 0n ? '' : ` It carries ${describePermissions(approved)}: the bot gives it while it has no other such permission.`;
  let created = true;
  try {
    await services.db.bind.create({ data: { ...key, name: named.name, createdBy: interaction.user.id, approved: approved.toString() } });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    created = false;
  }
  const reapproved = (await setApproval(services.db, interaction.guildId, target.roleId, approved)) > 0;
  await services.approvals.refresh(interaction.guildId, target.roleId);
  if (!created && !reapproved) throw new UserError(`${roleMention(target.roleId)} is already bound to ${describeBind(named)}.`);
  if (!created) {
    services.log.info({ guildId: interaction.guildId, by: interaction.user.id, roleId: target.roleId, approved: approved.toString() }, 'bound role approved again');
    await services.serverLog.post(interaction.guildId, [`✅ ${userMention(interaction.user.id)} approved ${roleMention(target.roleId)} as it is now${approved === 0n ? '' : ` (${describePermissions(approved)})`}.`]);
    await interaction.editReply(`${roleMention(target.roleId)} is already bound to ${describeBind(named)}; its permissions as they are now are approved, so linked members get it again at their next check.${approval}`);
    return;
  }
  services.log.info({ guildId: interaction.guildId, by: interaction.user.id, ...target }, 'bind added');
  await services.serverLog.post(interaction.guildId, [`➕ ${userMention(interaction.user.id)} bound ${roleMention(target.roleId)} to ${describeBind(named)}.`]);
  const unnamed = named.name === null && NAMED_KINDS.has(target.kind) ? ' Roblox could not be asked for its name just now; it will be filled in later.' : '';
  await interaction.editReply(
    `Bound ${roleMention(target.roleId)} to ${describeBind(named)}.${unnamed} Linked members get it at their next check; run \`/sync\` to check everyone now.${approval}`,
  );
}

async function remove(interaction: GuildCommand, services: Services, target: Bind): Promise<void> {
  boundRole(interaction, target, 'unbind');
  const removed = await removeBind(services.db, interaction.guildId, target);
  if (!removed) throw new UserError(`There is no bind of ${roleMention(target.roleId)} to ${describeBind(target)}. See \`/bind list\`.`);
  await services.approvals.refresh(interaction.guildId, target.roleId);
  services.log.info({ guildId: interaction.guildId, by: interaction.user.id, ...target }, 'bind removed');
  await services.serverLog.post(interaction.guildId, [`➖ ${userMention(interaction.user.id)} removed the bind of ${roleMention(target.roleId)} to ${describeBind(removed)}.`]);
  await interaction.editReply(`Removed the bind of ${roleMention(target.roleId)} to ${describeBind(removed)}. Members keep the role unless another bind of it decides otherwise.`);
}

/** The bind's role, if the invoker could give (or take) it by hand in Discord. */
function boundRole(interaction: GuildCommand, target: Bind, action: 'bind' | 'unbind'): Role {
  const role = interaction.guild.roles.cache.get(target.roleId);
  if (!role) throw new UserError(`${roleMention(target.roleId)} does not exist in this server.`);
  const refusal = roleRefusal(interaction.member, role, action);
  if (refusal) throw new UserError(refusal);
  return role;
}

async function list(interaction: GuildCommand, services: Services): Promise<void> {
  const binds = (await bindsByServer(services.db, [interaction.guildId])).get(interaction.guildId) ?? [];
  const lines = binds.length === 0 ? ['This server has no binds yet. Add one with `/bind add`.'] : [`${binds.length} bind(s):`, ...binds.map((b) => `• ${roleMention(b.roleId)} ← ${describeBind(b)}`)];
  await interaction.reply({ content: fitMessage(lines), flags: MessageFlags.Ephemeral });
}
