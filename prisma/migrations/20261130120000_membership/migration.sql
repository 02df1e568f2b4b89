-- The membership index (issue 12): which servers each member is in.
CREATE TABLE "Membership" (
    "guildId" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "seenAt" DATETIME NOT NULL,

    PRIMARY KEY ("guildId", "discordUserId")
);

CREATE INDEX "Membership_discordUserId_idx" ON "Membership"("discordUserId");
