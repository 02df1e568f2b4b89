// What an operator graphs and alerts on, in Prometheus format at /metrics. One registry per bot.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  checks: Counter<'outcome'>;
  robloxRequests: Counter<'endpoint' | 'status'>;
  roleWrites: Counter<'action'>;
  syncDuration: Histogram<'trigger'>;
}

/** `queueDepth` is read at each scrape: members still to check in the current cycle. */
export function createMetrics(queueDepth: () => Promise<number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatepass_' });
  new Gauge({
    name: 'gatepass_sync_queue_depth',
    help: 'Linked members not yet checked in the current cycle (0 between cycles)',
    registers: [registry],
    async collect() {
      this.set(await queueDepth());
    },
  });
  return {
    registry,
    checks: new Counter({ name: 'gatepass_ownership_checks_total', help: 'Ownership answers per bound item, by outcome (owns, not_owned, unknown)', labelNames: ['outcome'], registers: [registry] }),
    robloxRequests: new Counter({
      name: 'gatepass_roblox_requests_total',
      help: 'Roblox requests by endpoint and HTTP status (or "timeout" / "network"); status="429" counts rate limiting; endpoint="inventory_collectibles" counts the extra requests (pages included) that collectible binds cost; "group_memberships" those of group ranks (pages included, 50 members a request), "group_roles" the cached role reads',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    }),
    roleWrites: new Counter({ name: 'gatepass_role_writes_total', help: 'Discord roles given (add) or removed (remove) by syncs', labelNames: ['action'], registers: [registry] }),
    syncDuration: new Histogram({
      name: 'gatepass_sync_duration_seconds',
      help: 'Duration of completed sync cycles, by trigger',
      labelNames: ['trigger'],
      buckets: [1, 10, 60, 300, 900, 1800, 3600, 7200, 14_400],
      registers: [registry],
    }),
  };
}

/** The endpoint label of a Roblox URL, without ids; collectible listings apart from id checks. */
export function robloxEndpoint(url: URL): string {
  const path = url.pathname;
  // Group reads, matched on the path's end like item names: memberships (the per-member cost) apart from roles and names.
  if (/\/cloud\/v2\/groups\/[^/]+\/memberships$/.test(path)) return 'group_memberships';
  if (/\/cloud\/v2\/groups\/\d+\/roles$/.test(path)) return 'group_roles';
  if (/\/cloud\/v2\/groups\/\d+$/.test(path)) return 'group_name';
  if (path.endsWith('/inventory-items')) return url.searchParams.get('filter')?.includes('onlyCollectibles=') ? 'inventory_collectibles' : 'inventory';
  if (path.startsWith('/cloud/v2/users/')) return 'user';
  if (path.startsWith('/v1/usernames')) return 'usernames';
  if (path.startsWith('/oauth/')) return `oauth${path.slice('/oauth/v1'.length).replace(/\//g, '_')}`;
  // Item names: matched on the path's end, since a configured host may carry a path of its own.
  if (/\/game-passes\/v1\/game-passes\/\d+\/product-info$/.test(path)) return 'gamepass_name';
  if (/\/v1\/badges\/\d+$/.test(path)) return 'badge_name';
  if (/\/v2\/assets\/\d+\/details$/.test(path)) return 'asset_name';
  return 'other';
}
