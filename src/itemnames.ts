// Names for binds' items and groups: asked of Roblox when a bind is added, and filled in later, in the
// background, for binds added while Roblox could not be asked. Names are for people only: no sync
// reads them or waits for them, and their lookups spend their own budgets (src/roblox/api.ts).

import { type Bind, KIND_LABELS, NAMED_KINDS, namedId, storedBind } from './bindings';
import { UserError } from './commands';
import { nameItem, unnamedItems } from './database/binds';
import type { Database } from './database/client';
import type { Logger } from './log';
import type { RobloxApi } from './roblox/api';
import { lookupGroupName } from './roblox/groups';
import { type ItemLookup, type LookupOptions, lookupItemName, type NamedItemKind } from './roblox/items';

export interface ItemNames {
  /**
   * The name to store with a new bind: null when the kind has none or Roblox could not be asked
   * (a later round fills it in). Throws a UserError when Roblox says the item does not exist.
   */
  forNewBind(bind: Bind): Promise<{ name: string | null }>;
  /** One round over the binds still unnamed, one lookup at a time; resolves to how many items got a name. */
  fill(): Promise<number>;
  stop(): void;
}

/** How often unnamed binds are retried, while there are any. */
const FILL_INTERVAL_MS = 5 * 60_000;
/** Lookups per round; the rest wait for the next one. */
const MAX_PER_ROUND = 50;

const isNamed = (kind: string): kind is NamedItemKind | 'group' => NAMED_KINDS.has(kind as Bind['kind']);

/** A bind's name from Roblox: its item's, or its group's (a group bind's itemId is its rule, `group:35>=5`). */
function lookupName(roblox: RobloxApi, item: { kind: NamedItemKind | 'group'; itemId: string }, options?: LookupOptions): Promise<ItemLookup> {
  if (item.kind !== 'group') return lookupItemName(roblox, item.kind, item.itemId, options);
  const bind = storedBind({ roleId: '', kind: item.kind, itemId: item.itemId, expression: null });
  return bind ? lookupGroupName(roblox, namedId(bind), options) : Promise.resolve({ kind: 'missing', detail: 'not a group bind' });
}

/** "group 35", "badge 2124" */
const describeId = (bind: Bind) => `${bind.kind === 'group' ? 'group' : KIND_LABELS[bind.kind]} with the id ${namedId(bind)}`;

export function startItemNames(deps: { db: Database; roblox: RobloxApi; log: Logger }): ItemNames {
  const { db, roblox, log } = deps;
  // Items Roblox said do not exist (deleted since their bind was added): not asked again until a restart.
  const missing = new Set<string>();
  // Whether a round may find work; true at start for binds left unnamed by an earlier process.
  let pending = true;
  let stopped = false;
  let running: Promise<number> | undefined;

  const round = async (): Promise<number> => {
    pending = false;
    const items = (await unnamedItems(db, [...NAMED_KINDS])).flatMap(({ kind, itemId }) => (isNamed(kind) && !missing.has(`${kind}:${itemId}`) ? [{ kind, itemId }] : []));
    let named = 0;
    for (const [index, item] of items.entries()) {
      if (stopped) return named;
      if (index >= MAX_PER_ROUND) {
        pending = true;
        break;
      }
      const found = await lookupName(roblox, item);
      if (stopped) return named;
      if (found.kind === 'named') {
        await nameItem(db, item, found.name);
        named++;
      } else if (found.kind === 'missing') {
        missing.add(`${item.kind}:${item.itemId}`);
        log.warn({ ...item, detail: found.detail }, 'Roblox says a bound item does not exist; its binds keep showing the id');
      } else {
        pending = true;
        log.debug({ ...item, detail: found.detail }, 'could not learn a bound item\'s name yet; will retry');
      }
    }
    if (named > 0) log.info({ named }, 'filled in the names of bound items');
    return named;
  };

  const fill = () => {
    running ??= round().finally(() => (running = undefined));
    return running;
  };

  const timer = setInterval(() => {
    if (pending && !stopped) fill().catch((error: unknown) => log.error({ err: error }, 'filling in item names failed'));
  }, FILL_INTERVAL_MS);
  timer.unref();

  return {
    fill,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    async forNewBind(bind) {
      if (!isNamed(bind.kind)) return { name: null };
      const found = await lookupName(roblox, { kind: bind.kind, itemId: bind.itemId }, { interactive: true });
      if (found.kind === 'missing') {
        throw new UserError(`Roblox says there is no ${describeId(bind)}. Check the id (it is the number in the ${bind.kind === 'group' ? 'group' : 'item'}'s Roblox page address). Nothing was saved.`);
      }
      if (found.kind === 'named') return { name: found.name };
      log.info({ kind: bind.kind, itemId: bind.itemId, detail: found.detail }, 'could not ask Roblox for an item\'s name; the bind is saved without it');
      pending = true;
      return { name: null };
    },
  };
}
