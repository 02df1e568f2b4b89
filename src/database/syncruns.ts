// SyncRun: one row per cycle, so a restart resumes the open cycle instead of starting over.

import type { Database } from './client';

export interface OpenRun {
  id: number;
  trigger: string;
  startedAt: Date;
}

/** The open cycle, or a new one. */
export async function openRun(db: Database, trigger: string, now: Date): Promise<{ run: OpenRun; resumed: boolean }> {
  const open = await db.syncRun.findFirst({ where: { finishedAt: null }, orderBy: { id: 'asc' }, select: { id: true, trigger: true, startedAt: true } });
  if (open) return { run: open, resumed: true };
  return { run: await db.syncRun.create({ data: { trigger, startedAt: now }, select: { id: true, trigger: true, startedAt: true } }), resumed: false };
}

export async function findOpenRun(db: Database): Promise<OpenRun | null> {
  return db.syncRun.findFirst({ where: { finishedAt: null }, orderBy: { id: 'asc' }, select: { id: true, trigger: true, startedAt: true } });
}

/** Counts the members checked; `finishedAt` undefined leaves the run open, to be resumed. */
export async function closeRun(db: Database, id: number, checked: number, finishedAt: Date | undefined): Promise<void> {
  await db.syncRun.update({ where: { id }, data: { finishedAt, checked: { increment: checked } } });
}
