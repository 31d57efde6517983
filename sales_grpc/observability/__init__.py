"""What the service tells its operators: Prometheus metrics (metrics.py), OpenTelemetry traces
(tracing.py), the interceptor that measures and traces every call (calls.py), and the log
formats (logs.py). Each part costs nothing on the call path while it is switched off."""
