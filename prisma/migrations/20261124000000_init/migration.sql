-- CreateTable
CREATE TABLE "Link" (
    "discordUserId" TEXT NOT NULL PRIMARY KEY,
    "robloxUserId" TEXT NOT NULL,
    "robloxUsername" TEXT NOT NULL,
    "linkedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "checkedAt" DATETIME
);

-- CreateTable
CREATE TABLE "Verification" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "discordUserId" TEXT NOT NULL,
    "robloxUserId" TEXT NOT NULL,
    "robloxUsername" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "guildId" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Bind" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "guildId" TEXT NOT NULL,
    "roleId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Outcome" (
    "robloxUserId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "checkedAt" DATETIME NOT NULL,

    PRIMARY KEY ("robloxUserId", "kind", "itemId")
);

-- CreateTable
CREATE TABLE "MemberSync" (
    "guildId" TEXT NOT NULL,
    "discordUserId" TEXT NOT NULL,
    "syncedAt" DATETIME NOT NULL,
    "problem" TEXT,

    PRIMARY KEY ("guildId", "discordUserId")
);

-- CreateTable
CREATE TABLE "SyncRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "trigger" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "checked" INTEGER NOT NULL DEFAULT 0
);

-- CreateIndex
CREATE UNIQUE INDEX "Link_robloxUserId_key" ON "Link"("robloxUserId");

-- CreateIndex
CREATE INDEX "Link_checkedAt_idx" ON "Link"("checkedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Verification_discordUserId_key" ON "Verification"("discordUserId");

-- CreateIndex
CREATE INDEX "Bind_guildId_idx" ON "Bind"("guildId");

-- CreateIndex
CREATE UNIQUE INDEX "Bind_guildId_roleId_kind_itemId_key" ON "Bind"("guildId", "roleId", "kind", "itemId");

