"""The gRPC edge: server, interceptors, thin servicers, converters, the status table."""
