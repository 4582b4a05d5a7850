import type { DescService } from "@bufbuild/protobuf";
import type { OperationRules } from "./operation-permissions.js";
import type { UnaryOperations } from "./unary-operations.js";

/**
 * Every read of `operations` (the operations whose rule asks for the read
 * permission), answered only once `barrier` resolves: a cluster node's
 * linearizable reads wait until it has applied what the cluster's log held
 * when they arrived. One wrapper for all, so no read can forget to wait.
 */
export function readAfterBarrier<S extends DescService>(
  operations: UnaryOperations<S>,
  rules: OperationRules<S>,
  barrier: () => Promise<void>,
): UnaryOperations<S> {
  const wrapped: Record<string, unknown> = { ...operations };
  for (const [name, rule] of Object.entries(rules as Record<string, { permission: unknown }>)) {
    const operation = (operations as Record<string, (...args: never[]) => unknown>)[name]!;
    if (rule.permission === "read") {
      wrapped[name] = (...args: never[]) => barrier().then(() => operation(...args));
    }
  }
  return wrapped as UnaryOperations<S>;
}
