// What a server can bind to a role, and how each kind is named to users.

export const BIND_KINDS = ['gamepass', 'badge', 'asset', 'privateserver', 'verified'] as const;
export type BindKind = (typeof BIND_KINDS)[number];
/** Kinds that name a Roblox item (everything but "verified"). */
export type ItemKind = Exclude<BindKind, 'verified'>;

export interface Bind {
  roleId: string;
  kind: BindKind;
  /** Roblox item id as a decimal string; "" for "verified". */
  itemId: string;
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

export function describeBind(bind: Bind): string {
  return bind.kind === 'verified' ? 'linked Roblox account' : `${KIND_LABELS[bind.kind]} ${bind.itemId}`;
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
