-- The sync reads a batch's MemberSync rows by member; the primary key starts with the server, so
-- without this index every batch scanned the whole table (10 ms a batch at 100,000 members).
CREATE INDEX "MemberSync_discordUserId_idx" ON "MemberSync"("discordUserId");
