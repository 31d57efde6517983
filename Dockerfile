# The sales gRPC service: `sales-grpc serve`, configured by environment variables.
# Build: docker build -t sales-grpc .   Run with MongoDB and Redis: docker compose up --build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs: pyproject (with README.md as its readme), the code, generated/.
# The `server` extra: a plain `pip install .` is the client for other services alone.
COPY pyproject.toml README.md ./
COPY sales_grpc ./sales_grpc
COPY generated ./generated
RUN pip install '.[server]' \
    && rm -rf /app/sales_grpc /app/generated /app/build \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sales

USER sales
ENV ENVIRONMENT=production \
    SERVICE_HOST=0.0.0.0 \
    SERVICE_PORT=50051
# 50051: gRPC (SERVICE_PORT). 9464: Prometheus metrics at /metrics when METRICS_PORT=9464 is
# set (compose.yaml and deploy/k8s set it; unset, no metrics endpoint).
EXPOSE 50051 9464

# grpc.health.v1.Health/Check on the serving port: healthy only while SERVING (the server
# reports NOT_SERVING while MongoDB is unreachable and during a graceful shutdown).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, grpc; from grpc_health.v1 import health_pb2 as h, health_pb2_grpc as g; channel = grpc.insecure_channel('127.0.0.1:' + os.environ.get('SERVICE_PORT', '50051')); reply = g.HealthStub(channel).Check(h.HealthCheckRequest(), timeout=3); sys.exit(0 if reply.status == h.HealthCheckResponse.SERVING else 1)"]

# Exec form: the server is PID 1 and receives SIGTERM itself, so `docker stop` drains calls.
CMD ["sales-grpc", "serve"]
