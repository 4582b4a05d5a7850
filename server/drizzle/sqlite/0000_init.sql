CREATE TABLE `snapshot_clients` (
	`snapshot_id` integer NOT NULL,
	`position` integer NOT NULL,
	`client_id` text NOT NULL,
	`first_seen` integer NOT NULL,
	PRIMARY KEY(`snapshot_id`, `position`),
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `snapshot_history` (
	`snapshot_id` integer NOT NULL,
	`position` integer NOT NULL,
	`key` text NOT NULL,
	`revision_count` integer NOT NULL,
	PRIMARY KEY(`snapshot_id`, `position`),
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `snapshot_keys` (
	`snapshot_id` integer NOT NULL,
	`position` integer NOT NULL,
	`key` text NOT NULL,
	`value` blob NOT NULL,
	`content_type` text NOT NULL,
	`content_type_sniffed` integer NOT NULL,
	`hash` text NOT NULL,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	`version` text NOT NULL,
	`created_by` text NOT NULL,
	`lock_owner` text,
	`lock_duration` integer,
	`lock_created` integer,
	`lock_deadline` integer,
	`lock_fencing_token` text,
	`lifespan_duration` integer,
	`lifespan_set` integer,
	`lifespan_deadline` integer,
	PRIMARY KEY(`snapshot_id`, `position`),
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `snapshot_metrics` (
	`snapshot_id` integer NOT NULL,
	`position` integer NOT NULL,
	`key` text NOT NULL,
	`access_count` integer NOT NULL,
	`first_accessed` integer,
	`last_accessed` integer,
	`set_count` integer NOT NULL,
	`first_set` integer,
	`last_set` integer,
	`lock_count` integer NOT NULL,
	`first_locked` integer,
	`last_locked` integer,
	PRIMARY KEY(`snapshot_id`, `position`),
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `snapshot_revisions` (
	`snapshot_id` integer NOT NULL,
	`position` integer NOT NULL,
	`seq` integer NOT NULL,
	`value` blob NOT NULL,
	`content_type` text NOT NULL,
	`hash` text NOT NULL,
	`version` text NOT NULL,
	`timestamp` integer NOT NULL,
	PRIMARY KEY(`snapshot_id`, `position`, `seq`),
	FOREIGN KEY (`snapshot_id`) REFERENCES `snapshots`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `snapshots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`server_name` text NOT NULL,
	`created` integer NOT NULL,
	`format` integer NOT NULL,
	`taken_at` integer NOT NULL,
	`revision` text NOT NULL,
	`fencing_token` text NOT NULL,
	`readonly` integer NOT NULL,
	`key_count` integer NOT NULL,
	`total_bytes` integer NOT NULL,
	`history_count` integer NOT NULL,
	`revision_count` integer NOT NULL,
	`metrics_count` integer NOT NULL,
	`client_count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `snapshots_server_name_id_idx` ON `snapshots` (`server_name`,`id`);