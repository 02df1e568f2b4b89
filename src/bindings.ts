// What a server can bind to a role, and how each kind is named to users.

import { escapeMarkdown } from 'discord.js';

export const BIND_KINDS = ['gamepass', 'badge', 'asset', 'privateserver', 'verified'] as const;
export type BindKind = (typeof BIND_KINDS)[number];
/** Kinds that name a Roblox item (everything but "verified"). */
export type ItemKind = Exclude<BindKind, 'verified'>;

export interface Bind {
  roleId: string;
  kind: BindKind;
  /** Roblox item id as a decimal string; "" for "verified". */
  itemId: string;
  /** The item's name on Roblox: null when it could not be learnt yet; absent when not read. */
  name?: string | null;
}

export interface ItemRef {
  kind: ItemKind;
  itemId: string;
}

/** Largest id we accept: Discord integer options and JSON numbers are exact only up to 2^53 - 1. */
export const MAX_ITEM_ID = Number.MAX_SAFE_INTEGER;

/** At most this many binds per server: every member's check must stay a handful of requests. */
export const MAX_BINDS_PER_SERVER = 100;

export const KIND_LABELS: Record<BindKind, string> = {
  gamepass: 'game pass',
  badge: 'badge',
  asset: 'asset',
  privateserver: 'private server',
  verified: 'verified',
};

export function isBindKind(value: unknown): value is BindKind {
  return typeof value === 'string' && (BIND_KINDS as readonly string[]).includes(value);
}

export function itemKey(item: { kind: BindKind; itemId: string }): string {
  return `${item.kind}:${item.itemId}`;
}

/**
 * Kinds whose items have a public name on Roblox. A private server's name is chosen by whoever
 * owns it and can be read only with that owner's cookie (games.roblox.com/v1/vip-servers/{id}), so
 * a private-server bind is shown by its id.
 */
export const NAMED_KINDS: ReadonlySet<BindKind> = new Set(['gamepass', 'badge', 'asset']);

/** "game pass VIP Pass (83167572)", or the id alone while the name is unknown. */
export function describeBind(bind: Bind): string {
  if (bind.kind === 'verified') return 'linked Roblox account';
  if (bind.name) return `${KIND_LABELS[bind.kind]} ${discordSafe(bind.name)} (${bind.itemId})`;
  return `${KIND_LABELS[bind.kind]} ${bind.itemId}${bind.name === null && NAMED_KINDS.has(bind.kind) ? ' (name unknown)' : ''}`;
}

/**
 * A name from Roblox is anyone's text: shown as written, never as Discord markup. Markdown (masked
 * links included) is escaped, mentions, channels, emoji and timestamps (all `<…>`) lose their `<`,
 * and @everyone / @here are broken with a zero-width space. Length and line breaks are dealt with
 * where names enter (src/roblox/items.ts).
 */
export function discordSafe(text: string): string {
  return escapeMarkdown(text, { maskedLink: true, heading: true, bulletedList: true, numberedList: true })
    .replace(/</g, '\\<')
    .replace(/@(everyone|here)/gi, '@\u200b$1');
}

/** Every distinct item the binds name, in a stable order. */
export function boundItems(binds: Iterable<Bind>): ItemRef[] {
  const items = new Map<string, ItemRef>();
  for (const bind of binds) {
    if (bind.kind === 'verified') continue;
    const item = { kind: bind.kind, itemId: bind.itemId };
    items.set(itemKey(item), item);
  }
  return [...items.values()].sort((a, b) => itemKey(a).localeCompare(itemKey(b)));
}
