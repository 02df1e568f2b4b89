// /settings nickname and /settings nickname-bypass: the template is checked before it is saved, and
// the reply says what the bot still needs. Linked members are renamed at their next sync (the
// scheduled cycle walks them all; /sync does a server now), at link and on join.

import { type GuildMember, PermissionFlagsBits, type Role } from 'discord.js';
import type { Database } from './database/client';
import type { LinkedAccount } from './database/links';
import { saveSettings, syncSettings } from './database/settings';
import type { ServerLog } from './discord/serverlog';
import type { MemberState, Server } from './discord/servers';
import { parseTemplate } from './nickname';
import { roleMention, userMention } from './reports';
import { planServerNickname } from './sync/plan';
import type { ServerResult } from './sync/results';

export type SettingResult = { ok: true; reply: string } | { ok: false; error: string };

const NEEDS_PERMISSION = 'I do not have the **Manage Nicknames** permission here, so no nickname can be set until the bot\'s role gets it (Server Settings → Roles).';

export async function chooseNicknameTemplate(deps: { db: Database; serverLog: ServerLog }, member: GuildMember, template: string | undefined): Promise<SettingResult> {
  const guildId = member.guild.id;
  const text = template?.trim() ?? '';
  if (!text) {
    await saveSettings(deps.db, guildId, { nicknameTemplate: null });
    await deps.serverLog.post(guildId, [`⚙️ ${userMention(member.id)} turned nicknames off.`]);
    return { ok: true, reply: 'Nicknames turned off. Nicknames already set stay as they are.' };
  }
  const parsed = parseTemplate(text);
  if (!parsed.ok) return { ok: false, error: `${parsed.error} Nothing was changed.` };
  await saveSettings(deps.db, guildId, { nicknameTemplate: text });
  await deps.serverLog.post(guildId, [`⚙️ ${userMention(member.id)} set the nickname template to \`${text}\`.`]);
  const notes = [`Linked members' nicknames will follow \`${text}\` (at most 32 characters): at once when they link or join, the others at their next sync (\`/sync\` does this server now). The server owner, members whose highest role is not below mine and members with the bypass role keep theirs.`];
  if (!member.guild.members.me?.permissions.has(PermissionFlagsBits.ManageNicknames)) notes.push(`⚠️ ${NEEDS_PERMISSION}`);
  return { ok: true, reply: notes.join('\n') };
}

export async function chooseNicknameBypass(deps: { db: Database; serverLog: ServerLog }, member: GuildMember, role: Role | undefined): Promise<SettingResult> {
  const guildId = member.guild.id;
  await saveSettings(deps.db, guildId, { nicknameBypassRoleId: role?.id ?? null });
  await deps.serverLog.post(guildId, [`⚙️ ${userMention(member.id)} ${role ? `set the nickname bypass role to ${roleMention(role.id)}` : 'cleared the nickname bypass role'}.`]);
  return { ok: true, reply: role ? `Members with ${roleMention(role.id)} keep the nickname they have.` : 'No bypass role: every linked member gets the template\'s nickname.' };
}

/** /check's line on the member's nickname here: what the template gives, and why it is left alone if it is. */
export async function nicknameLine(db: Database, server: Server, member: MemberState & { id: string }, link: LinkedAccount | undefined): Promise<string | undefined> {
  const setting = (await syncSettings(db, [server.id])).nicknames.get(server.id);
  if (!setting) return undefined;
  const result: ServerResult = { guildId: server.id, serverName: server.name, present: true, added: [], removed: [], problems: [] };
  // /check reads no group ranks: a {group-rank:<id>} part shows empty in this line.
  const decision = planServerNickname({ server, binds: [], nickname: setting, roles: member.roles, state: member, result }, member.id, link, new Map());
  if (!decision) return `Nickname: the template cannot be used: ${result.problems.join('; ')}`;
  if (decision.change === 'set') return `Nickname: the next sync sets it to “${decision.nickname}”.`;
  if (decision.reason) return `Nickname: left alone (${decision.reason})${decision.nickname ? `; the template would give “${decision.nickname}”` : ''}.`;
  return `Nickname: “${decision.nickname ?? ''}”, as the template gives.`;
}
