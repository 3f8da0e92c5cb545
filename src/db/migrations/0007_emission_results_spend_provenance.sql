ALTER TABLE "emission_results" ADD COLUMN "fx_rate" double precision;--> statement-breakpoint
ALTER TABLE "emission_results" ADD COLUMN "price_ratio" double precision;--> statement-breakpoint
ALTER TABLE "emission_results" ADD COLUMN "price_index_month" text;