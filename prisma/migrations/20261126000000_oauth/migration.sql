-- Sign in with Roblox: how each link was proven, members' consents, and sign-ins in progress.
ALTER TABLE "Link" ADD COLUMN "method" TEXT NOT NULL DEFAULT 'profile';

CREATE TABLE "OAuthGrant" (
    "discordUserId" TEXT NOT NULL PRIMARY KEY,
    "robloxUserId" TEXT NOT NULL,
    "refreshToken" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

CREATE TABLE "OAuthState" (
    "state" TEXT NOT NULL PRIMARY KEY,
    "discordUserId" TEXT NOT NULL,
    "guildId" TEXT NOT NULL,
    "requesterName" TEXT NOT NULL,
    "serverName" TEXT NOT NULL,
    "codeVerifier" TEXT NOT NULL,
    "browserHash" TEXT,
    "expiresAt" DATETIME NOT NULL
);

CREATE INDEX "OAuthState_discordUserId_idx" ON "OAuthState"("discordUserId");
