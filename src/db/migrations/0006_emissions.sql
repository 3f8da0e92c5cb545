CREATE TABLE "activities" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"org_id" text NOT NULL,
	"type" text NOT NULL,
	"period" text NOT NULL,
	"kwh" double precision,
	"country" text,
	"region" text,
	"contract_factor" double precision,
	"amount" double precision,
	"currency" text,
	"category" text,
	"activity_date" date,
	"origin" text,
	"destination" text,
	"cabin_class" text,
	"passengers" integer,
	"round_trip" boolean,
	"distance_km" double precision,
	"gc_distance_km" double precision,
	"origin_country" text,
	"destination_country" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "activity_ingests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"idempotency_key" text,
	"request_hash" text NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "emission_factor_sets" (
	"version" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"description" text,
	"is_default" boolean DEFAULT false NOT NULL,
	"loaded_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "emission_factors" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"factor_set" text NOT NULL,
	"type" text NOT NULL,
	"key" text NOT NULL,
	"unit" text NOT NULL,
	"kg_co2e" double precision NOT NULL,
	"kg_co2" double precision,
	"kg_ch4" double precision,
	"kg_n2o" double precision,
	"currency" text,
	"base_year" integer,
	"source" text NOT NULL,
	"source_table" text,
	"year" integer,
	"region" text,
	"url" text,
	"label" text
);
--> statement-breakpoint
CREATE TABLE "emission_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"activity_id" bigint NOT NULL,
	"factor_set" text NOT NULL,
	"tenant_id" text NOT NULL,
	"org_id" text NOT NULL,
	"type" text NOT NULL,
	"period" text NOT NULL,
	"scope" text NOT NULL,
	"ghg_category" text NOT NULL,
	"kg_co2e" double precision NOT NULL,
	"kg_co2" double precision,
	"kg_ch4" double precision,
	"kg_n2o" double precision,
	"kg_co2e_market" double precision,
	"factor_id" bigint NOT NULL,
	"match_level" text NOT NULL,
	"distance_km" double precision,
	"distance_method" text,
	"uplift" double precision,
	"rf_multiplier" double precision,
	"run_id" text NOT NULL,
	"calculated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "activities_tenant_id_idx" ON "activities" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "activities_tenant_org_id_idx" ON "activities" USING btree ("tenant_id","org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "activity_ingests_tenant_idempotency_key_uq" ON "activity_ingests" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "emission_factors_set_type_key_uq" ON "emission_factors" USING btree ("factor_set","type","key");--> statement-breakpoint
CREATE UNIQUE INDEX "emission_results_activity_set_uq" ON "emission_results" USING btree ("activity_id","factor_set");--> statement-breakpoint
CREATE INDEX "emission_results_tenant_org_idx" ON "emission_results" USING btree ("tenant_id","org_id","factor_set");--> statement-breakpoint
CREATE INDEX "emission_results_run_idx" ON "emission_results" USING btree ("run_id","activity_id");