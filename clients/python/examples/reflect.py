"""A generic gRPC client driven by server reflection alone (no Rosetta stubs): lists the services and methods a
server offers, describes a message, and calls a unary method with a JSON request, printing the JSON answer.
Debian 12 packages neither grpcurl nor grpc_cli; this does their job for discovery.

    python examples/reflect.py 127.0.0.1:50051 list
    python examples/reflect.py 127.0.0.1:50051 describe rosetta.v1.EmbedRequest
    python examples/reflect.py 127.0.0.1:50051 call rosetta.v1.Embeddings/Embed '{"inputs": [{"text": "hello"}], "dimensions": 4}'
"""
import argparse
import sys

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 8: "bool", 9: "string", 12: "bytes",
           13: "uint32", 17: "sint32", 18: "sint64"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("address")
    ap.add_argument("command", choices=["list", "describe", "call"])
    ap.add_argument("name", nargs="?", help="describe: a message or service; call: Service/Method")
    ap.add_argument("request", nargs="?", default="{}", help="call: the request as JSON")
    ap.add_argument("--token", help="sent as authorization: Bearer <token>")
    args = ap.parse_args()

    channel = grpc.insecure_channel(args.address)
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = DescriptorPool(database)
    if args.command == "list":
        for service_name in sorted(database.get_services()):
            print(service_name)
            try:
                methods = pool.FindServiceByName(service_name).methods
            except KeyError:
                print("  (no descriptor served)")
                continue
            for method in methods:
                stream = lambda s: "stream " if s else ""
                print(f"  {method.name}({stream(method.client_streaming)}{method.input_type.full_name}) returns "
                      f"({stream(method.server_streaming)}{method.output_type.full_name})")
        return 0
    if args.command == "describe":
        try:
            descriptor = pool.FindMessageTypeByName(args.name)
            for field in descriptor.fields:
                kind = (field.message_type.full_name if field.message_type else
                        field.enum_type.full_name if field.enum_type else SCALARS.get(field.type, field.type))
                repeated = getattr(field, "is_repeated", False)
                print(f"  {field.name} = {field.number}  ({kind}{', repeated' if repeated else ''})")
        except KeyError:
            for method in pool.FindServiceByName(args.name).methods:
                print(f"  {method.name}({method.input_type.full_name}) returns ({method.output_type.full_name})")
        return 0

    service_name, _, method_name = args.name.partition("/")
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(f"/{service_name}/{method_name}", request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    try:
        response = call(json_format.Parse(args.request, request_class()), timeout=60, metadata=metadata)
    except grpc.RpcError as e:
        print(f"{e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    print(json_format.MessageToJson(response))
    return 0


if __name__ == "__main__":
    sys.exit(main())
