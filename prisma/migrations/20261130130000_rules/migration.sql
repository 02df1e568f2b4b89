-- Collectible and rule binds key on their normalised rule text in "itemId", so the unique
-- (guildId, roleId, kind, itemId) still refuses the same bind twice; the rule as its author wrote
-- it is kept for /bind list.
ALTER TABLE "Bind" ADD COLUMN "expression" TEXT;

-- A member's collectible count per set of asset types (kind "collectibles", itemId the set), for /check.
ALTER TABLE "Outcome" ADD COLUMN "count" INTEGER;
