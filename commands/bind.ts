import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits, type Role } from 'discord.js';
import { BIND_KINDS, type Bind, boundGroups, describeBind, KIND_LABELS, MAX_BINDS_PER_SERVER, MAX_ITEM_ID, NAMED_KINDS, withName } from '../src/bindings';
import { checkServerLimits, readBindRequest } from '../src/bindrequest';
import { GUILD_ONLY, type GuildCommand, integerOption, roleOption, type Services, type SlashCommand, stringOption, subcommand, UserError } from '../src/commands';
import { bindsByServer, removeBind, setApproval } from '../src/database/binds';
import { isUniqueViolation } from '../src/database/client';
import { describePermissions, elevatedIn, roleRefusal } from '../src/permissions';
import { fitMessage, roleMention, userMention } from '../src/reports';
import { MAX_COLLECTIBLE_COUNT, MAX_GROUP_RANK, MAX_RULE_LENGTH, RULE_LIMITS } from '../src/rules/syntax';

const typeOption = {
  type: ApplicationCommandOptionType.String,
  name: 'type',
  description: 'What must be owned',
  required: true,
  choices: BIND_KINDS.map((kind) => ({ name: KIND_LABELS[kind], value: kind })),
} as const;
const roleOptionDefinition = { type: ApplicationCommandOptionType.Role, name: 'role', description: 'The Discord role', required: true } as const;
const countOption = {
  type: ApplicationCommandOptionType.Integer,
  name: 'count',
  description: 'For "collectibles": how many collectibles (limiteds) at least; default 1',
  required: false,
  min_value: 1,
  max_value: MAX_COLLECTIBLE_COUNT,
} as const;
const assetTypesOption = {
  type: ApplicationCommandOptionType.String,
  name: 'asset-types',
  description: 'For "collectibles": Roblox asset types, comma-separated (e.g. HAT,FACE); default every type',
  required: false,
  max_length: 1_000,
} as const;
const ruleOption = {
  type: ApplicationCommandOptionType.String,
  name: 'rule',
  description: 'For "rule": e.g. gamepass:123 and (badge:4 or not badge:5); atleast(2, badge:1, badge:2, badge:3)',
  required: false,
  max_length: MAX_RULE_LENGTH,
} as const;
const numberOption = { type: ApplicationCommandOptionType.Integer, name: 'number', description: 'The number `/bind list` shows (instead of the other options)', required: false, min_value: 1 } as const;
const idOption = {
  type: ApplicationCommandOptionType.Integer,
  name: 'id',
  description: 'The Roblox id of the game pass, badge, asset, private server or group (not for "verified")',
  required: false,
  min_value: 1,
  max_value: MAX_ITEM_ID,
} as const;
const rankOption = (name: 'min-rank' | 'max-rank', description: string) => ({ type: ApplicationCommandOptionType.Integer, name, description, required: false, min_value: 0, max_value: MAX_GROUP_RANK }) as const;
const minRankOption = rankOption('min-rank', 'For "group rank": the lowest rank (0–255) that earns the role; default 1, any member');
const maxRankOption = rankOption('max-rank', 'For "group rank": the highest rank (0–255); default 255. max-rank 0 alone: not in the group');
const addOptions = [typeOption, roleOptionDefinition, idOption, countOption, assetTypesOption, ruleOption, minRankOption, maxRankOption];

export const bind: SlashCommand = {
  permission: { needs: PermissionFlagsBits.ManageGuild },
  definition: {
    name: 'bind',
    description: 'Manage which Roblox items earn which roles',
    ...GUILD_ONLY,
    default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
    options: [
      { type: ApplicationCommandOptionType.Subcommand, name: 'add', description: 'Give a role to members who own a Roblox item, or for whom a rule holds', options: addOptions },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'remove',
        description: 'Remove a bind (the role itself is left on members)',
        options: [{ ...typeOption, required: false }, { ...roleOptionDefinition, required: false }, ...addOptions.slice(2), numberOption],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: "List this server's binds" },
    ],
  },

  async run(interaction, services) {
    const action = subcommand(interaction, ['add', 'remove', 'list']);
    if (action === 'list') return list(interaction, services);
    const number = action === 'remove' ? integerOption(interaction, 'number', false, 1, MAX_BINDS_PER_SERVER) : undefined;
    const target = number === undefined ? readBind(interaction) : undefined;
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (action === 'add') return add(interaction, services, target!);
    return remove(interaction, services, target ?? (await bindNumbered(interaction, services, number!)));
  },
};

function readBind(interaction: GuildCommand): Bind {
  return readBindRequest({
    kind: stringOption(interaction, 'type', true)!,
    roleId: roleOption(interaction, 'role', true).id,
    id: integerOption(interaction, 'id', false, 1, MAX_ITEM_ID),
    count: integerOption(interaction, 'count', false, 1, MAX_COLLECTIBLE_COUNT),
    assetTypes: stringOption(interaction, 'asset-types', false, 1_000),
    rule: stringOption(interaction, 'rule', false, MAX_RULE_LENGTH),
    minRank: integerOption(interaction, 'min-rank', false, 0, MAX_GROUP_RANK),
    maxRank: integerOption(interaction, 'max-rank', false, 0, MAX_GROUP_RANK),
  });
}

/** The bind `/bind list` shows as `number`; only a number is then allowed. */
async function bindNumbered(interaction: GuildCommand, services: Services, number: number): Promise<Bind> {
  const others = interaction.options.data[0]?.options?.filter((o) => o.name !== 'number') ?? [];
  if (others.length > 0) throw new UserError('Give either the `number` from `/bind list` or the bind\'s options, not both.');
  const binds = (await bindsByServer(services.db, [interaction.guildId])).get(interaction.guildId) ?? [];
  const found = binds[number - 1];
  if (!found) throw new UserError(`There is no bind number ${number}; this server has ${binds.length}. See \`/bind list\`.`);
  return found;
}

async function add(interaction: GuildCommand, services: Services, target: Bind): Promise<void> {
  const role = boundRole(interaction, target, 'bind');
  // Elevated but not yet approved is no obstacle here: binding it is the approval.
  const access = services.discord.server(interaction.guildId)?.roleAccess(target.roleId) ?? { ok: false, reason: 'this server is not available to the bot' };
  if (!access.ok && !access.removeOnly) throw new UserError(`I cannot manage ${roleMention(target.roleId)}: ${access.reason}. Nothing was saved.`);
  checkServerLimits((await bindsByServer(services.db, [interaction.guildId])).get(interaction.guildId) ?? [], target);
  const { name } = await services.itemNames.forNewBind(target);
  const named = withName(target, name);
  const key = { guildId: interaction.guildId, roleId: target.roleId, kind: target.kind, itemId: target.itemId };
  // Only the owner or an Administrator gets this far with a role that has any (src/permissions.ts).
  const approved = elevatedIn(role.permissions.bitfield);
  const approval = approved === 0n ? '' : ` It carries ${describePermissions(approved)}: the bot gives it while it has no other such permission.`;
  let created = true;
  try {
    await services.db.bind.create({ data: { ...key, expression: target.kind === 'rule' ? target.written : null, name, createdBy: interaction.user.id, approved: approved.toString() } });
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
  services.log.info({ by: interaction.user.id, ...key }, 'bind added');
  forgetRoles(services, named);
  await services.serverLog.post(interaction.guildId, [`➕ ${userMention(interaction.user.id)} bound ${roleMention(target.roleId)} to ${describeBind(named)}.`]);
  const unnamed = name === null && NAMED_KINDS.has(target.kind) ? ' Roblox could not be asked for its name just now; it will be filled in later.' : '';
  const reading = target.kind === 'rule' ? ` Read as \`${target.itemId}\` (rules may be ${RULE_LIMITS}).` : '';
  await interaction.editReply(
    `Bound ${roleMention(target.roleId)} to ${describeBind(named)}.${reading}${unnamed} Linked members get it at their next check; run \`/sync\` to check everyone now.${approval}`,
  );
}

async function remove(interaction: GuildCommand, services: Services, target: Bind): Promise<void> {
  boundRole(interaction, target, 'unbind');
  const removed = await removeBind(services.db, interaction.guildId, target);
  if (!removed) throw new UserError(`There is no bind of ${roleMention(target.roleId)} to ${describeBind(target)}. See \`/bind list\`.`);
  await services.approvals.refresh(interaction.guildId, target.roleId);
  forgetRoles(services, removed);
  services.log.info({ guildId: interaction.guildId, by: interaction.user.id, roleId: target.roleId, kind: target.kind, itemId: target.itemId }, 'bind removed');
  await services.serverLog.post(interaction.guildId, [`➖ ${userMention(interaction.user.id)} removed the bind of ${roleMention(target.roleId)} to ${describeBind(removed)}.`]);
  await interaction.editReply(`Removed the bind of ${roleMention(target.roleId)} to ${describeBind(removed)}. Members keep the role unless another bind of it decides otherwise.`);
}

/** A group's roles are read afresh once its binds change: whoever binds a rank expects today's ranks. */
function forgetRoles(services: Services, bind: Bind): void {
  for (const groupId of boundGroups([bind])) services.roblox.groupRoles.forget(groupId);
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
  const lines = binds.length === 0 ? ['This server has no binds yet. Add one with `/bind add`.'] : [`${binds.length} bind(s):`, ...binds.map((b, i) => `${i + 1}. ${roleMention(b.roleId)} ← ${describeBind(b)}`)];
  await interaction.reply({ content: fitMessage(lines), flags: MessageFlags.Ephemeral });
}
