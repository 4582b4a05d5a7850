CREATE TABLE `journal_entries` (
	`server_name` text NOT NULL,
	`seq` integer NOT NULL,
	`format` integer NOT NULL,
	`batch` integer NOT NULL,
	`batch_size` integer NOT NULL,
	`time` integer NOT NULL,
	`revision` text NOT NULL,
	`command` text NOT NULL,
	`value` blob,
	`checksum` integer NOT NULL,
	PRIMARY KEY(`server_name`, `seq`)
);
--> statement-breakpoint
ALTER TABLE `snapshots` ADD `command_seq` text DEFAULT '0' NOT NULL;