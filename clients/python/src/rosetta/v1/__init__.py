"""Generated protobuf and gRPC stubs of the rosetta.v1 API (scripts/generate-protos-python)."""
