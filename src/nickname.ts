// Nicknames from the Roblox account (/settings nickname): the template's syntax, the name it gives a
// member, and whether to write it. Pure: the template, the link and the member as read in; the
// decision out.

/** Discord's longest nickname, in characters (code points, never half a surrogate pair). */
export const NICKNAME_MAX = 32;

const NAMES = ['roblox-name', 'display-name', 'smart-name', 'roblox-id', 'discord-name'] as const;
type Name = (typeof NAMES)[number];

export type TemplatePart = { text: string } | { name: Name } | { groupRank: string };

/** The template's parts, or what is wrong with it. */
/** The groups whose rank a template shows, so a check reads them; none for no template or a bad one. */
export function templateGroups(template: string | undefined): Set<string> {
  const parsed = template === undefined ? undefined : parseTemplate(template);
  return new Set(parsed?.ok ? parsed.parts.flatMap((part) => ('groupRank' in part ? [part.groupRank] : [])) : []);
}

export function parseTemplate(template: string): { ok: true; parts: TemplatePart[] } | { ok: false; error: string } {
  const parts: TemplatePart[] = [];
  const pattern = /\{([^{}]*)\}/g;
  let at = 0;
  for (let match = pattern.exec(template); match; match = pattern.exec(template)) {
    if (match.index > at) parts.push({ text: template.slice(at, match.index) });
    const inner = match[1]!;
    const rank = /^group-rank:(\d{1,19})$/.exec(inner);
    if (rank) parts.push({ groupRank: rank[1]! });
    else if ((NAMES as readonly string[]).includes(inner)) parts.push({ name: inner as Name });
    else if (inner.startsWith('group-rank')) return { ok: false, error: `\`{${inner}}\` needs a group id: \`{group-rank:<group id>}\`, e.g. \`{group-rank:1234567}\`.` };
    else return { ok: false, error: `Unknown placeholder \`{${inner}}\`. Use ${NAMES.map((n) => `\`{${n}}\``).join(', ')} or \`{group-rank:<group id>}\`.` };
    at = match.index + match[0].length;
  }
  const rest = template.slice(at);
  if (/[{}]/.test(rest) || parts.some((p) => 'text' in p && /[{}]/.test(p.text))) return { ok: false, error: 'A `{` or `}` is not part of a placeholder: placeholders are written like `{roblox-name}`.' };
  if (rest) parts.push({ text: rest });
  return { ok: true, parts };
}

export interface NameFacts {
  robloxName: string;
  displayName: string;
  robloxId: string;
  discordName: string;
  /** The member's rank in a group, when known; unknown renders as nothing. */
  groupRank(groupId: string): string | undefined;
}

const length = (text: string) => Array.from(text).length;
const cut = (text: string, max: number) => Array.from(text).slice(0, max).join('');

/**
 * The nickname the template gives. Too long, the smart name's "(username)" is shortened first
 * ("Display (usern…)"), then left out, and only then is the whole cut to 32 characters.
 */
export function renderNickname(parts: readonly TemplatePart[], facts: NameFacts): string {
  const render = (smart: string) =>
    parts
      .map((part) => {
        if ('text' in part) return part.text;
        if ('groupRank' in part) return facts.groupRank(part.groupRank) ?? '';
        return { 'roblox-name': facts.robloxName, 'display-name': facts.displayName, 'smart-name': smart, 'roblox-id': facts.robloxId, 'discord-name': facts.discordName }[part.name];
      })
      .join('')
      .trim();
  const name = facts.robloxName;
  if (facts.displayName === name) return cut(render(name), NICKNAME_MAX);
  const full = render(`${facts.displayName} (${name})`);
  if (length(full) <= NICKNAME_MAX || !parts.some((p) => 'name' in p && p.name === 'smart-name')) return cut(full, NICKNAME_MAX);
  for (let keep = length(name) - 1; keep >= 1; keep--) {
    const shorter = render(`${facts.displayName} (${cut(name, keep)}…)`);
    if (length(shorter) <= NICKNAME_MAX) return shorter;
  }
  return cut(render(facts.displayName), NICKNAME_MAX);
}

export interface NicknameInput {
  parts: readonly TemplatePart[];
  /** The linked account's facts; none for a member without a link, whose nickname is left alone. */
  facts: NameFacts | undefined;
  current: string | null;
  /** Why the bot may not change this member's nickname (the owner, a member not below the bot, no Manage Nicknames). */
  untouchable: string | undefined;
  /** The member has the server's bypass role. */
  bypass: boolean;
}

export type NicknameDecision = { change: 'none'; nickname?: string; reason?: string } | { change: 'set'; nickname: string };

export function planNickname(input: NicknameInput): NicknameDecision {
  if (!input.facts) return { change: 'none', reason: 'no linked Roblox account' };
  if (input.bypass) return { change: 'none', reason: 'has the nickname bypass role' };
  const nickname = renderNickname(input.parts, input.facts);
  if (!nickname || nickname === input.current) return { change: 'none', nickname };
  if (input.untouchable) return { change: 'none', nickname, reason: input.untouchable };
  return { change: 'set', nickname };
}
