"""Domain rules and state: pure Python, no I/O, nothing of gRPC or MongoDB."""
