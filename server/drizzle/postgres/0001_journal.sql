CREATE TABLE "journal_entries" (
	"server_name" text NOT NULL,
	"seq" bigint NOT NULL,
	"format" integer NOT NULL,
	"batch" bigint NOT NULL,
	"batch_size" integer NOT NULL,
	"time" bigint NOT NULL,
	"revision" text NOT NULL,
	"command" text NOT NULL,
	"value" "bytea",
	"checksum" bigint NOT NULL,
	CONSTRAINT "journal_entries_server_name_seq_pk" PRIMARY KEY("server_name","seq")
);
--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "command_seq" text DEFAULT '0' NOT NULL;