CREATE TABLE "snapshot_clients" (
	"snapshot_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"client_id" "bytea" NOT NULL,
	"first_seen" bigint NOT NULL,
	CONSTRAINT "snapshot_clients_snapshot_id_position_pk" PRIMARY KEY("snapshot_id","position")
);
--> statement-breakpoint
CREATE TABLE "snapshot_history" (
	"snapshot_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"key" "bytea" NOT NULL,
	"revision_count" integer NOT NULL,
	CONSTRAINT "snapshot_history_snapshot_id_position_pk" PRIMARY KEY("snapshot_id","position")
);
--> statement-breakpoint
CREATE TABLE "snapshot_keys" (
	"snapshot_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"key" "bytea" NOT NULL,
	"value" "bytea" NOT NULL,
	"content_type" "bytea" NOT NULL,
	"content_type_sniffed" boolean NOT NULL,
	"hash" text NOT NULL,
	"created" bigint NOT NULL,
	"updated" bigint NOT NULL,
	"version" text NOT NULL,
	"created_by" "bytea" NOT NULL,
	"lock_owner" "bytea",
	"lock_duration" bigint,
	"lock_created" bigint,
	"lock_deadline" bigint,
	"lock_fencing_token" text,
	"lifespan_duration" bigint,
	"lifespan_set" bigint,
	"lifespan_deadline" bigint,
	CONSTRAINT "snapshot_keys_snapshot_id_position_pk" PRIMARY KEY("snapshot_id","position")
);
--> statement-breakpoint
CREATE TABLE "snapshot_metrics" (
	"snapshot_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"key" "bytea" NOT NULL,
	"access_count" bigint NOT NULL,
	"first_accessed" bigint,
	"last_accessed" bigint,
	"set_count" bigint NOT NULL,
	"first_set" bigint,
	"last_set" bigint,
	"lock_count" bigint NOT NULL,
	"first_locked" bigint,
	"last_locked" bigint,
	CONSTRAINT "snapshot_metrics_snapshot_id_position_pk" PRIMARY KEY("snapshot_id","position")
);
--> statement-breakpoint
CREATE TABLE "snapshot_revisions" (
	"snapshot_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"seq" integer NOT NULL,
	"value" "bytea" NOT NULL,
	"content_type" "bytea" NOT NULL,
	"hash" text NOT NULL,
	"version" text NOT NULL,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "snapshot_revisions_snapshot_id_position_seq_pk" PRIMARY KEY("snapshot_id","position","seq")
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "snapshots_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"server_name" text NOT NULL,
	"created" bigint NOT NULL,
	"format" integer NOT NULL,
	"taken_at" bigint NOT NULL,
	"revision" text NOT NULL,
	"fencing_token" text NOT NULL,
	"readonly" boolean NOT NULL,
	"key_count" bigint NOT NULL,
	"total_bytes" bigint NOT NULL,
	"history_count" bigint NOT NULL,
	"revision_count" bigint NOT NULL,
	"metrics_count" bigint NOT NULL,
	"client_count" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "snapshot_clients" ADD CONSTRAINT "snapshot_clients_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_history" ADD CONSTRAINT "snapshot_history_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_keys" ADD CONSTRAINT "snapshot_keys_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_metrics" ADD CONSTRAINT "snapshot_metrics_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_revisions" ADD CONSTRAINT "snapshot_revisions_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "snapshots_server_name_id_idx" ON "snapshots" USING btree ("server_name","id");