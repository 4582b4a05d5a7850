/** Attributes of a span. */
export type SpanAttributes = Record<string, string | number | boolean>;

/**
 * Runs `work` in a span named `name` (ended when it settles; an error marks
 * it failed and is rethrown); with tracing off, just runs it.
 */
export type SpanRunner = <T>(name: string, work: () => Promise<T>, attributes?: SpanAttributes) => Promise<T>;

/** The {@link SpanRunner} of tracing off. */
export const untracedSpan: SpanRunner = (_name, work) => work();
