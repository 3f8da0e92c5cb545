ALTER TABLE "api_keys" ADD COLUMN "rate_per_minute" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "max_storage_bytes" bigint;