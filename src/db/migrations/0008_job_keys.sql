CREATE TABLE "job_keys" (
	"job_id" text PRIMARY KEY NOT NULL,
	"sealed" text NOT NULL,
	"salt" text NOT NULL,
	"kdf" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
