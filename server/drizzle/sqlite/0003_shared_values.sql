CREATE TABLE `snapshot_values` (
	`hash` blob PRIMARY KEY NOT NULL,
	`value` blob NOT NULL
);
--> statement-breakpoint
ALTER TABLE `snapshot_keys` ADD `value_hash` blob;--> statement-breakpoint
CREATE INDEX `snapshot_keys_value_hash_idx` ON `snapshot_keys` (`value_hash`);--> statement-breakpoint
ALTER TABLE `snapshot_revisions` ADD `value_hash` blob;--> statement-breakpoint
CREATE INDEX `snapshot_revisions_value_hash_idx` ON `snapshot_revisions` (`value_hash`);