// What every slash command module provides, and the reading of options in one careful place:
// any option may arrive with the wrong type, out of range, or not at all.

import {
  ApplicationCommandOptionType,
  ApplicationIntegrationType,
  ChannelType,
  InteractionContextType,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type Role,
  type User,
} from 'discord.js';
import type { Approvals } from './approvals';
import type { Clock } from './clock';
import type { Database } from './database/client';
import type { ServerLog } from './discord/serverlog';
import type { DiscordSide } from './discord/servers';
import type { ItemNames } from './itemnames';
import type { LinkChanges } from './linkchanges';
import type { Logger } from './log';
import type { Grants } from './oauth/grants';
import type { SignIns } from './oauth/signin';
import type { CommandPermission } from './permissions';
import type { PriorityShare } from './priorityshare';
import type { RobloxApi } from './roblox/api';
import type { MemberSync } from './sync/members';
import type { SyncRuns } from './sync/runs';
import type { UnverifiedPass } from './unverifiedrole';

export interface Services {
  db: Database;
  roblox: RobloxApi;
  discord: DiscordSide;
  approvals: Approvals;
  /** Each server's bounded share of priority re-checks (/sync, /update of someone else). */
  share: PriorityShare;
  sync: MemberSync;
  /** Every change of a link, in the locks of the members it affects. */
  links: LinkChanges;
  runs: SyncRuns;
  log: Logger;
  clock: Clock;
  serverLog: ServerLog;
  itemNames: ItemNames;
  unverifiedPass: UnverifiedPass;
  /** Present when Sign in with Roblox is configured. */
  grants?: Grants;
  signIns?: SignIns;
}

export type GuildCommand = ChatInputCommandInteraction<'cached'>;
export type GuildButton = ButtonInteraction<'cached'>;

export interface SlashCommand {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Who may run it, server-wide; enforced by the router. Matches `definition.default_member_permissions`. */
  permission?: CommandPermission;
  run(interaction: GuildCommand, services: Services): Promise<void>;
  /** Buttons whose custom id starts with `${prefix}:` belong to this command. */
  button?: { prefix: string; run(interaction: GuildButton, argument: string, services: Services): Promise<void> };
}

/** A problem with what the user asked; its message is shown to them as is. */
export class UserError extends Error {}

/** Guild-only commands, also checked again when they run. */
export const GUILD_ONLY: Pick<RESTPostAPIChatInputApplicationCommandsJSONBody, 'contexts' | 'integration_types'> = {
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
};

/** Every option sent, subcommands' included. */
const allOptions = (interaction: GuildCommand) => interaction.options.data.flatMap((o) => (o.options ? [o, ...o.options] : [o]));

function option(interaction: GuildCommand, name: string, type: ApplicationCommandOptionType, required: boolean): CommandInteractionOption<'cached'> | undefined {
  const found = allOptions(interaction).find((o) => o.name === name);
  if (!found) {
    if (required) throw new UserError(`The option \`${name}\` is required.`);
    return undefined;
  }
  if (found.type !== type) throw new UserError(`The option \`${name}\` has the wrong type.`);
  return found;
}

export function stringOption(interaction: GuildCommand, name: string, required: boolean, maxLength = 100): string | undefined {
  const value = option(interaction, name, ApplicationCommandOptionType.String, required)?.value;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UserError(`The option \`${name}\` must be text.`);
  if (value.length > maxLength) throw new UserError(`The option \`${name}\` is too long (at most ${maxLength} characters).`);
  return value;
}

export function integerOption(interaction: GuildCommand, name: string, required: boolean, min: number, max: number): number | undefined {
  const value = option(interaction, name, ApplicationCommandOptionType.Integer, required)?.value;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new UserError(`The option \`${name}\` must be a whole number.`);
  if (value < min || value > max) throw new UserError(`The option \`${name}\` must be between ${min} and ${max}; got ${value}.`);
  return value;
}

export function roleOption(interaction: GuildCommand, name: string, required: true): Role;
export function roleOption(interaction: GuildCommand, name: string, required: boolean): Role | undefined;
export function roleOption(interaction: GuildCommand, name: string, required: boolean): Role | undefined {
  const found = option(interaction, name, ApplicationCommandOptionType.Role, required);
  if (!found) return undefined;
  const role = found.role ?? interaction.guild.roles.cache.get(String(found.value));
  if (!role) throw new UserError(`The role given for \`${name}\` does not exist in this server.`);
  return role;
}

/** A text or announcement channel of this server (the definition restricts the types too). */
export function channelOption(interaction: GuildCommand, name: string, required: boolean): { id: string; name: string } | undefined {
  const found = option(interaction, name, ApplicationCommandOptionType.Channel, required);
  if (!found) return undefined;
  const channel = interaction.guild.channels.cache.get(String(found.value));
  if (!channel) throw new UserError(`The channel given for \`${name}\` is not a channel of this server that I can see.`);
  if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) throw new UserError(`\`${name}\` must be a text or announcement channel.`);
  return { id: channel.id, name: channel.name };
}

export function userOption(interaction: GuildCommand, name: string, required: boolean): User | undefined {
  const found = option(interaction, name, ApplicationCommandOptionType.User, required);
  if (!found) return undefined;
  if (!found.user) throw new UserError(`The member given for \`${name}\` could not be resolved.`);
  return found.user;
}

/** The id of a user option as sent, without resolving it; undefined when absent. */
export function userOptionId(interaction: GuildCommand, name: string): string | undefined {
  const found = allOptions(interaction).find((o) => o.name === name && o.type === ApplicationCommandOptionType.User);
  return found ? String(found.value) : undefined;
}

/**
 * A user named by any option who is not a member of this server (Discord resolves members only for
 * those who are). Nothing about them may be shown here: their link, outcomes and roles belong to
 * the servers they are in.
 */
export function outsiderNamed(interaction: GuildCommand): string | undefined {
  const outsider = allOptions(interaction).find((o) => o.type === ApplicationCommandOptionType.User && String(o.value) !== interaction.user.id && !o.member);
  return outsider ? String(outsider.value) : undefined;
}

export function subcommand(interaction: GuildCommand, allowed: readonly string[]): string {
  const name = interaction.options.data[0]?.type === ApplicationCommandOptionType.Subcommand ? interaction.options.data[0].name : undefined;
  if (!name || !allowed.includes(name)) throw new UserError(`Use one of: ${allowed.map((a) => `\`${a}\``).join(', ')}.`);
  return name;
}
