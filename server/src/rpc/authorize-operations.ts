import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { can, type Identity, type Permission } from "../auth/identity.js";
import type { Caller } from "./client-id.js";
import type { OperationRule, OperationRules } from "./operation-permissions.js";
import type { UnaryOperations } from "./unary-operations.js";

/**
 * Every operation of `service`, refusing (PERMISSION_DENIED, naming the
 * missing permission) a caller whose identity lacks the permission its rule
 * asks for, or whose key_prefixes do not cover the key it addresses: one
 * wrapper for all, so no RPC can forget the check. For servers with auth on.
 */
export function authorizeOperations<S extends DescService>(
  service: S,
  operations: UnaryOperations<S>,
  rules: OperationRules<S>,
): UnaryOperations<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, operation] of Object.entries(operations as Record<string, (request: unknown, caller: Caller, ...rest: never[]) => unknown>)) {
    const rule = (rules as Record<string, OperationRule<unknown> | undefined>)[name];
    if (rule === undefined) {
      throw new Error(`no permission rule for ${service.typeName}.${name}`);
    }
    const rpc = service.method[name]?.name ?? name;
    wrapped[name] = (request: unknown, caller: Caller, ...rest: never[]) => {
      if (caller.identity !== undefined) {
        authorize(caller.identity, rpc, rule, request);
      }
      return operation(request, caller, ...rest);
    };
  }
  return wrapped as UnaryOperations<S>;
}

function authorize(identity: Identity, rpc: string, rule: OperationRule<unknown>, request: unknown): void {
  checkPermission(identity, rpc, typeof rule.permission === "function" ? rule.permission(request) : rule.permission, rule.key?.(request));
}

/** PERMISSION_DENIED, naming what is missing, unless `identity` has `permission` (on `key`, when given) for `rpc`. */
export function checkPermission(identity: Identity, rpc: string, permission: Permission, key?: string): void {
  if (!can(identity, permission)) {
    throw new ConnectError(
      `${rpc} needs the ${permission} permission, which identity ${JSON.stringify(identity.id)} (role ${identity.role}) lacks`,
      Code.PermissionDenied,
    );
  }
  if (key !== undefined && !can(identity, permission, key)) {
    throw new ConnectError(
      `${rpc} needs the ${permission} permission on key ${JSON.stringify(key)}, which identity ${JSON.stringify(identity.id)} lacks (key_prefixes ${JSON.stringify(identity.keyPrefixes)})`,
      Code.PermissionDenied,
    );
  }
}
