-- The unverified role: given to members without a linked account.
ALTER TABLE "ServerSettings" ADD COLUMN "unverifiedRoleId" TEXT;
