// /healthz: is the bot connected to Discord, can it reach its database, and how old is the last
// completed sync. Unhealthy (503) only for the first two: a long cycle is not an outage.

import { type Client, Status } from 'discord.js';
import type { Clock } from './clock';
import type { Database } from './database/client';

export interface Health {
  ok: boolean;
  gateway: 'connected' | 'disconnected';
  database: 'ok' | 'unreachable';
  lastSyncFinishedAt: string | null;
  lastSyncAgeSeconds: number | null;
}

export function healthCheck(client: Client, db: Database, clock: Clock): () => Promise<Health> {
  return async () => {
    // Every shard, not the manager: the manager keeps saying Ready after a disconnect.
    const shards = [...client.ws.shards.values()];
    const gateway = client.token !== null && shards.length > 0 && shards.every((shard) => shard.status === Status.Ready) ? 'connected' : 'disconnected';
    let database: Health['database'] = 'ok';
    let finished: Date | null = null;
    try {
      finished = (await db.syncRun.findFirst({ where: { NOT: { finishedAt: null } }, orderBy: { finishedAt: 'desc' }, select: { finishedAt: true } }))?.finishedAt ?? null;
    } catch {
      database = 'unreachable';
    }
    return {
      ok: gateway === 'connected' && database === 'ok',
      gateway,
      database,
      lastSyncFinishedAt: finished?.toISOString() ?? null,
      lastSyncAgeSeconds: finished ? Math.round((clock.now() - finished.getTime()) / 1000) : null,
    };
  };
}
