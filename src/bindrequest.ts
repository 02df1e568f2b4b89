// What /bind add and /bind remove ask for, read into a bind and checked, with an error that says
// exactly what is wrong. The command reads its options; the rules about them live here.

import { type Bind, BIND_KINDS, boundItems, collectibleBind, groupBind, isBindKind, KIND_LABELS, MAX_BINDS_PER_SERVER, MAX_ITEMS_PER_SERVER, ruleBind } from './bindings';
import { UserError } from './commands';
import { assetTypeProblem } from './roblox/assettypes';
import { defaultMinRank, MAX_GROUP_RANK, RULE_LIMITS, RuleError } from './rules/syntax';

export interface BindRequest {
  kind: string;
  roleId: string;
  id?: number;
  count?: number;
  assetTypes?: string;
  rule?: string;
  minRank?: number;
  maxRank?: number;
}

export function readBindRequest(request: BindRequest): Bind {
  const { kind, roleId } = request;
  if (!isBindKind(kind)) throw new UserError(`\`type\` must be one of ${BIND_KINDS.join(', ')}.`);
  const given = (['id', 'count', 'assetTypes', 'rule', 'minRank', 'maxRank'] as const).filter((name) => request[name] !== undefined);
  const allowed: readonly string[] = kind === 'verified' ? [] : kind === 'collectible' ? ['count', 'assetTypes'] : kind === 'rule' ? ['rule'] : kind === 'group' ? ['id', 'minRank', 'maxRank'] : ['id'];
  const stray = given.find((name) => !allowed.includes(name));
  if (stray) throw new UserError(`A ${KIND_LABELS[kind]} bind takes no \`${OPTION_NAMES[stray]}\`${kind === 'verified' ? ': it gives the role to every linked member' : ''}.`);
  switch (kind) {
    case 'verified':
      return { roleId, kind, itemId: '' };
    case 'collectible':
      return collectibleBind(roleId, request.count ?? 1, readAssetTypes(request.assetTypes ?? '*'));
    case 'rule':
      if (request.rule === undefined) throw new UserError(`A rule bind needs the \`rule\`, for example \`gamepass:123 and not badge:456\` (${RULE_LIMITS}).`);
      return readRule(roleId, request.rule);
    case 'group':
      return readGroupBind(roleId, request);
    default:
      if (request.id === undefined) throw new UserError(`A ${KIND_LABELS[kind]} bind needs the \`id\` of the ${KIND_LABELS[kind]}.`);
      return { roleId, kind, itemId: String(request.id) };
  }
}

const OPTION_NAMES = { id: 'id', count: 'count', assetTypes: 'asset-types', rule: 'rule', minRank: 'min-rank', maxRank: 'max-rank' } as const;

/** Any member by default; `max-rank:0` alone means "not in the group". */
function readGroupBind(roleId: string, request: BindRequest): Bind {
  if (request.id === undefined) throw new UserError('A group rank bind needs the `id` of the Roblox group (the number in the group page\'s address).');
  const max = request.maxRank ?? MAX_GROUP_RANK;
  const min = request.minRank ?? defaultMinRank(max);
  for (const [name, rank] of [['min-rank', min], ['max-rank', max]] as const) {
    if (!Number.isInteger(rank) || rank < 0 || rank > MAX_GROUP_RANK) throw new UserError(`\`${name}\` must be a whole number from 0 to ${MAX_GROUP_RANK}.`);
  }
  if (min > max) throw new UserError(`\`min-rank\` (${min}) is above \`max-rank\` (${max}): no member could ever have that role.`);
  return groupBind(roleId, String(request.id), min, max);
}

/** "HAT, face" → ["FACE", "HAT"]; "*" or nothing → every type (an empty list). */
function readAssetTypes(text: string): string[] {
  const names = text.split(',').map((name) => name.trim().toUpperCase()).filter(Boolean);
  if (names.length === 0 || (names.length === 1 && names[0] === '*')) return [];
  for (const name of names) {
    const problem = assetTypeProblem(name);
    if (problem) throw new UserError(`\`asset-types\`: \`${name.replace(/`/g, "'")}\` cannot be used: ${problem}.`);
  }
  return names;
}

function readRule(roleId: string, text: string): Bind {
  try {
    return ruleBind(roleId, text);
  } catch (error) {
    if (!(error instanceof RuleError)) throw error;
    const shown = text.replace(/`/g, "'").replace(/\s/g, ' ');
    const caret = error.position <= shown.length + 1 ? `\n\`\`\`\n${shown}\n${' '.repeat(error.position - 1)}^\n\`\`\`` : '';
    throw new UserError(`That rule cannot be read: at character ${error.position}, expected ${error.expected}, found ${error.found}.${caret}\nRules may be ${RULE_LIMITS}.`);
  }
}

/** Refuses a bind that would make every member's check of this server cost more than a few requests. */
export function checkServerLimits(existing: readonly Bind[], added: Bind): void {
  if (existing.length >= MAX_BINDS_PER_SERVER) throw new UserError(`This server already has ${existing.length} binds, the most allowed. Remove one first.`);
  const items = boundItems([...existing, added]).length;
  if (items > MAX_ITEMS_PER_SERVER) throw new UserError(`With this bind, this server's binds and rules would name ${items} different items; at most ${MAX_ITEMS_PER_SERVER} are allowed, so that each member's check stays a request or two.`);
}
