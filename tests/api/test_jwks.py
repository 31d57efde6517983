"""Tokens from a real Auth service: RS256 keys fetched from a JWKS URL, issuer and audience."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks_url():
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    ec_public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"},
                                {**ec_public, "kid": "k2", "use": "sig", "alg": "ES256"}]}
                      ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
async def stub(fresh_settings, jwks_url):
    settings = fresh_settings(algorithm="RS256,ES256", jwks_url=jwks_url,
                              jwt_issuer="https://auth.example", jwt_audience="sales-service")
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield pgrpc.ProductServiceStub(channel)
    await channel.close()
    await server.stop(0)
    await app.close()


def _token(key=KEY, algorithm="RS256", kid="k1", **overrides) -> tuple[tuple[str, str], ...]:
    claims = {"sub": "svc-1", "role": "admin", "permissions": ["sales:read"],
              "iss": "https://auth.example", "aud": "sales-service",
              "exp": int(time.time()) + 300, **overrides}
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})
    return (("authorization", f"Bearer {token}"),)


async def test_rs256_and_es256_tokens_from_the_auth_service_are_accepted(stub):
    for metadata in (_token(), _token(key=EC_KEY, algorithm="ES256", kid="k2")):
        response = await stub.ListCategories(ppb.ListCategoriesRequest(), metadata=metadata)
        assert isinstance(response, ppb.ListCategoriesResponse)


@pytest.mark.parametrize("metadata", [
    lambda: _token(aud="another-service"),
    lambda: _token(iss="https://evil.example"),
    lambda: _token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    lambda: _token(key="a-shared-secret-someone-guessed-0123456789", algorithm="HS256"),
    lambda: _token(key=EC_KEY, algorithm="ES256", kid="k1"),  # signed by the wrong key
])
async def test_wrong_audience_issuer_key_or_algorithm_is_unauthenticated(stub, metadata):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListCategories(ppb.ListCategoriesRequest(), metadata=metadata())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
