-- The Roblox name of a bind's item, as Roblox gave it when asked; NULL while unknown.
ALTER TABLE "Bind" ADD COLUMN "name" TEXT;
