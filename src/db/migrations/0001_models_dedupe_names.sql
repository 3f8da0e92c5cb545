-- Custom SQL migration file, put your code below! --
-- Model names become unique per tenant (the next migration's models_tenant_name_uq). Names were
-- free until now, so where a tenant has several models of one name, the oldest keeps it and the
-- others are renamed to their own id (unique, and what a model without a name is called anyway).
UPDATE "models" AS m SET "name" = m."id"
FROM (
	SELECT "id", row_number() OVER (PARTITION BY "tenant_id", "name" ORDER BY "created_at", "id") AS n
	FROM "models"
	WHERE "tenant_id" IS NOT NULL
) AS d
WHERE m."id" = d."id" AND d.n > 1;
