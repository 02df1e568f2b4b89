-- Nicknames from the Roblox account: the template and bypass role per server, the display name per link.
ALTER TABLE "ServerSettings" ADD COLUMN "nicknameTemplate" TEXT;
ALTER TABLE "ServerSettings" ADD COLUMN "nicknameBypassRoleId" TEXT;
ALTER TABLE "Link" ADD COLUMN "robloxDisplayName" TEXT;
