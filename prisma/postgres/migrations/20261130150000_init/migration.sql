-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Link" (
    "discordUserId" TEXT NOT NULL,
    "robloxUserId" TEXT NOT NULL,
    "robloxUsername" TEXT NOT NULL,
    "method" TEXT NOT NULL DEFAULT 'profile',
    "linkedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "checkedAt" TIMESTAMP(3),

    CONSTRAINT "Link_pkey" PRIMARY KEY ("discordUserId")
);

-- CreateTable
CREATE TABLE "OAuthGrant" (
    "discordUserId" TEXT NOT NULL,
    "robloxUserId" TEXT NOT NULL,
    "refreshToken" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OAuthGrant_pkey" PRIMARY KEY ("discordUserId")
);

-- CreateTable
CREATE TABLE "OAuthState" (
    "state" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "guildId" TEXT NOT NULL,
    "requesterName" TEXT NOT NULL,
    "serverName" TEXT NOT NULL,
    "codeVerifier" TEXT NOT NULL,
    "browserHash" TEXT,
    "discordChecked" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OAuthState_pkey" PRIMARY KEY ("state")
);

-- CreateTable
CREATE TABLE "Verification" (
    "id" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "robloxUserId" TEXT NOT NULL,
    "robloxUsername" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "guildId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Verification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Bind" (
    "id" SERIAL NOT NULL,
    "guildId" TEXT NOT NULL,
    "roleId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "expression" TEXT,
    "name" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "approved" TEXT NOT NULL DEFAULT '0',

    CONSTRAINT "Bind_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Outcome" (
    "robloxUserId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "count" INTEGER,
    "reason" TEXT,
    "since" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Outcome_pkey" PRIMARY KEY ("robloxUserId","kind","itemId")
);

-- CreateTable
CREATE TABLE "MemberSync" (
    "guildId" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL,
    "problem" TEXT,

    CONSTRAINT "MemberSync_pkey" PRIMARY KEY ("guildId","discordUserId")
);

-- CreateTable
CREATE TABLE "SyncRun" (
    "id" SERIAL NOT NULL,
    "trigger" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "checked" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "SyncRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServerSettings" (
    "guildId" TEXT NOT NULL,
    "logChannelId" TEXT,

    CONSTRAINT "ServerSettings_pkey" PRIMARY KEY ("guildId")
);

-- CreateTable
CREATE TABLE "Membership" (
    "guildId" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Membership_pkey" PRIMARY KEY ("guildId","discordUserId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Link_robloxUserId_key" ON "Link"("robloxUserId");

-- CreateIndex
CREATE INDEX "Link_checkedAt_linkedAt_idx" ON "Link"("checkedAt", "linkedAt");

-- CreateIndex
CREATE INDEX "OAuthState_discordUserId_idx" ON "OAuthState"("discordUserId");

-- CreateIndex
CREATE UNIQUE INDEX "Verification_discordUserId_key" ON "Verification"("discordUserId");

-- CreateIndex
CREATE INDEX "Bind_guildId_idx" ON "Bind"("guildId");

-- CreateIndex
CREATE UNIQUE INDEX "Bind_guildId_roleId_kind_itemId_key" ON "Bind"("guildId", "roleId", "kind", "itemId");

-- CreateIndex
CREATE INDEX "MemberSync_discordUserId_idx" ON "MemberSync"("discordUserId");

-- CreateIndex
CREATE INDEX "Membership_discordUserId_idx" ON "Membership"("discordUserId");

