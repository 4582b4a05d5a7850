import { create, createRegistry, toBinary, type DescFile, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@keyquarry/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@keyquarry/gen/grpc/reflection/v1alpha/reflection_pb.js";

// No maintained server reflection package exists for connect-es (grpc-js's @grpc/reflection
// needs a grpc-js server and protobufjs descriptors), so this is written here, on protobuf-es's
// own descriptors. v1alpha is the same protocol under an older name; older tools only speak it.

/** The request shape both protocol versions share. */
type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

/** A response's answer as both versions' `create` take it: plain fields (same names and numbers), no message of either version. */
interface ResponseInit {
  messageResponse:
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string } }
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };
}

/** What reflection answers from: every file by name (dependencies included), and their types. */
interface ReflectionFiles {
  byName: ReadonlyMap<string, DescFile>;
  registry: Registry;
}

/**
 * Registers gRPC server reflection, grpc.reflection.v1 and v1alpha, for
 * `services` (and for itself): list_services, file_by_filename,
 * file_containing_symbol (answered with the file and its dependencies,
 * serialized FileDescriptorProtos), all_extension_numbers_of_type (none:
 * our files declare no extensions) and file_containing_extension
 * (NOT_FOUND). This is what lets `buf curl`, grpcurl and Postman call the
 * server without its .proto files. No client id is asked for.
 */
export function reflectionRoutes(services: readonly DescService[]): (router: ConnectRouter) => void {
  const all = [...services, v1.ServerReflection, v1alpha.ServerReflection];
  const byName = new Map(all.map((service) => service.file).flatMap(withDependencies).map((file) => [file.proto.name, file]));
  const reflected = { byName, registry: createRegistry(...byName.values()) };
  const names = all.map((service) => service.typeName);
  const answer = (request: ReflectionRequest) => answerRequest(reflected, names, request);
  return (router) => {
    router.service(
      v1.ServerReflection,
      {
        async *serverReflectionInfo(requests) {
          for await (const request of requests) {
            yield create(v1.ServerReflectionResponseSchema, { ...answer(request), originalRequest: request });
          }
        },
      },
      { interceptors: [] },
    );
    router.service(
      v1alpha.ServerReflection,
      {
        async *serverReflectionInfo(requests) {
          for await (const request of requests) {
            yield create(v1alpha.ServerReflectionResponseSchema, { ...answer(request), originalRequest: request });
          }
        },
      },
      { interceptors: [] },
    );
  };
}

/** The answer to one reflection request. */
function answerRequest(files: ReflectionFiles, services: readonly string[], request: ReflectionRequest): ResponseInit {
  const { registry } = files;
  const query = request.messageRequest;
  switch (query.case) {
    case "listServices":
      return { messageResponse: { case: "listServicesResponse", value: { service: services.map((name) => ({ name })) } } };
    case "fileByFilename": {
      const file = files.byName.get(query.value);
      return file === undefined ? notFound(`file not found: ${query.value}`) : descriptors(file);
    }
    case "fileContainingSymbol": {
      const file = fileContaining(registry, query.value);
      return file === undefined ? notFound(`symbol not found: ${query.value}`) : descriptors(file);
    }
    case "fileContainingExtension":
      return notFound(`extension not found: ${query.value.containingType} ${query.value.extensionNumber}`);
    case "allExtensionNumbersOfType":
      return registry.getMessage(query.value) === undefined
        ? notFound(`type not found: ${query.value}`)
        : { messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: query.value } } };
    case undefined:
      return error(Code.InvalidArgument, "the request sets none of the message_request fields");
  }
}

/**
 * The file declaring `symbol`: a message, enum, service or extension by full
 * name, or a member of one (a method, field or enum value: `pkg.Service.Method`).
 */
function fileContaining(registry: Registry, symbol: string): DescFile | undefined {
  const declared = registry.get(symbol);
  if (declared !== undefined) {
    return declared.file;
  }
  const dot = symbol.lastIndexOf(".");
  const parent = dot > 0 ? registry.get(symbol.slice(0, dot)) : undefined;
  const member = symbol.slice(dot + 1);
  switch (parent?.kind) {
    case "service":
      return parent.methods.some((method) => method.name === member) ? parent.file : undefined;
    case "message":
      return parent.fields.some((field) => field.name === member) || parent.oneofs.some((oneof) => oneof.name === member)
        ? parent.file
        : undefined;
    case "enum":
      return parent.values.some((value) => value.name === member) ? parent.file : undefined;
    default:
      return undefined;
  }
}

/** `file` and every file it imports, transitively, each once (the file first). */
function withDependencies(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (next: DescFile) => {
    if (seen.has(next.proto.name)) return;
    seen.set(next.proto.name, next);
    next.dependencies.forEach(visit);
  };
  visit(file);
  return [...seen.values()];
}

/** `file` and its dependencies as serialized FileDescriptorProtos. */
function descriptors(file: DescFile): ResponseInit {
  const fileDescriptorProto = withDependencies(file).map((each) => toBinary(FileDescriptorProtoSchema, each.proto));
  return { messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto } } };
}

function notFound(message: string): ResponseInit {
  return error(Code.NotFound, message);
}

function error(code: Code, errorMessage: string): ResponseInit {
  return { messageResponse: { case: "errorResponse", value: { errorCode: code, errorMessage } } };
}
