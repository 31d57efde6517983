"""sales-grpc: the sales service of an ERP system over gRPC."""
