// Proofs in progress expire: profile codes and sign-in states older than their time go.

import type { Database } from './client';

export async function purgeExpired(db: Database, now: Date): Promise<{ codes: number; signIns: number }> {
  const [codes, signIns] = await db.$transaction([
    db.verification.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.oAuthState.deleteMany({ where: { expiresAt: { lt: now } } }),
  ]);
  return { codes: codes.count, signIns: signIns.count };
}
