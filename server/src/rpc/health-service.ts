import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { EventEmitter, once } from "node:events";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "@keyquarry/gen/grpc/health/v1/health_pb.js";

/**
 * The standard gRPC health service (grpc.health.v1.Health) for the services
 * named at creation and "" (the server as a whole): SERVING until
 * {@link HealthService.shutDown}, then NOT_SERVING. Load balancers,
 * Kubernetes gRPC probes and grpc-health-probe call it.
 */
export interface HealthService {
  /** Registers Health on a Connect router (no client id needed: probes send none). */
  routes(router: ConnectRouter): void;
  /** Marks every service NOT_SERVING; Watch streams get the change and then end, so shutdown need not wait for them. */
  shutDown(): void;
}

/** Creates the health service knowing `services` (full names such as `keyquarry.KeyQuarry`). */
export function createHealthService(services: readonly string[]): HealthService {
  const known = new Set(["", ...services]);
  let status = ServingStatus.SERVING;
  const changes = new EventEmitter().setMaxListeners(0);
  const response = (value: ServingStatus): HealthCheckResponse => create(HealthCheckResponseSchema, { status: value });

  // Sends the status now and at each change; an unknown service is SERVICE_UNKNOWN, as the protocol
  // specifies for Watch. Ends once NOT_SERVING is sent, or when the caller goes.
  async function* watch(service: string, signal: AbortSignal): AsyncGenerator<HealthCheckResponse> {
    for (;;) {
      yield response(known.has(service) ? status : ServingStatus.SERVICE_UNKNOWN);
      if (status !== ServingStatus.SERVING) return;
      try {
        await once(changes, "change", { signal });
      } catch {
        return;
      }
    }
  }

  return {
    routes(router) {
      router.service(
        Health,
        {
          check(request) {
            if (!known.has(request.service)) {
              throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
            }
            return response(status);
          },
          list() {
            return { statuses: Object.fromEntries([...known].map((name) => [name, response(status)])) };
          },
          watch: (request, context) => watch(request.service, context.signal),
        },
        // The keyquarry services' client id check does not apply to health probes.
        { interceptors: [] },
      );
    },
    shutDown() {
      status = ServingStatus.NOT_SERVING;
      changes.emit("change");
    },
  };
}
