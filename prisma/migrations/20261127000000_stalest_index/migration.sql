-- The scheduler takes the stalest links in (checkedAt, linkedAt) order, a hundred at a time; an index
-- in exactly that order makes each pick a short index walk instead of a sort of every link.
DROP INDEX "Link_checkedAt_idx";
CREATE INDEX "Link_checkedAt_linkedAt_idx" ON "Link"("checkedAt", "linkedAt");
