-- Per-server settings: the log channel.
CREATE TABLE "ServerSettings" (
    "guildId" TEXT NOT NULL PRIMARY KEY,
    "logChannelId" TEXT
);
