-- Outcome and MemberSync rows are now written only when they change: their time says since when.
ALTER TABLE "Outcome" RENAME COLUMN "checkedAt" TO "since";
ALTER TABLE "MemberSync" RENAME COLUMN "syncedAt" TO "since";
