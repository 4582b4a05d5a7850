/** What happened to a key: the kind of a {@link StoreEvent}. */
export enum StoreEventKind {
  /** A key came into existence. */
  CREATED,
  /** An existing key's value changed. */
  UPDATED,
  /** A key was removed by Delete, Pop or Clear. */
  DELETED,
  /** A key was removed because its lifespan elapsed. */
  EXPIRED,
  /** A lock was created or renewed. */
  LOCKED,
  /** A lock was removed. */
  UNLOCKED,
  /** A key was removed by pruning. */
  EXPUNGED,
  /** A key's value was read. */
  ACCESSED,
  /** A lifespan was created or set to a supplied duration. */
  LIFESPAN_SET,
  /** A lifespan was restarted with its existing duration. */
  LIFESPAN_RENEWED,
}

/** Every event kind, in numeric order (the values are 0 to length - 1). */
export const storeEventKinds: readonly StoreEventKind[] = Object.values(StoreEventKind).filter(
  (value): value is StoreEventKind => typeof value === "number",
);
