-- A sign-in continues to Roblox only after Discord confirmed the browser belongs to the requester.
ALTER TABLE "OAuthState" ADD COLUMN "discordChecked" BOOLEAN NOT NULL DEFAULT false;
