-- Elevated permissions (Administrator, Manage Server, ...) the role had when it was bound: only an
-- owner or Administrator can bind such a role, and the bot stops giving one that gains others later.
-- Binds made before this have approved none.
ALTER TABLE "Bind" ADD COLUMN "approved" TEXT NOT NULL DEFAULT '0';
