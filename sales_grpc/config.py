"""Settings read once from the environment, with the names of the service description."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_DEV_SECRET = "dev-only-secret-change-me-in-production-0001"


@dataclass(frozen=True)
class Settings:
    mongodb_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    database_name: str = "erp_sales"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_seconds: float = 0.5
    service_host: str = "0.0.0.0"
    service_port: int = 50051
    environment: str = "development"
    log_level: str = "INFO"
    # JWT: HS256 with SECRET_KEY by default; RS256/ES256 through JWKS_URL for a real Auth service.
    secret_key: str = _DEV_SECRET
    algorithm: str = "HS256"
    jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    smtp_server: str = "localhost"
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "sales@example.com"
    default_tax_rate: Decimal = Decimal("0.15")
    default_discount_limit: Decimal = Decimal("0.20")
    default_currency: str = "USD"
    shutdown_grace_seconds: float = 10.0
    order_number_format: str = "SO-{year}-{seq:06d}"
    # Order numbers each process draws per database round trip. 1 keeps numbers in creation
    # order across instances; larger saves a round trip per order, and a restart skips the
    # unused rest of a block (numbers stay unique either way).
    order_number_block: int = 10

    @property
    def allowed_algorithms(self) -> tuple[str, ...]:
        """ALGORITHM may list several, comma-separated (e.g. `RS256,ES256` for a JWKS)."""
        return tuple(a.strip() for a in self.algorithm.split(",") if a.strip())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for name, f in cls.__dataclass_fields__.items():
            raw = env.get(name.upper())
            if raw is None:
                continue
            values[name] = _convert(name, raw, f.type)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.environment == "production" and settings.secret_key == _DEV_SECRET:
            raise ValueError("SECRET_KEY must be set in production")
        return settings


def _convert(name: str, raw: str, kind: object) -> object:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
        if kind_name == "Decimal":
            value = Decimal(raw)
            if not value.is_finite():
                raise InvalidOperation
            return value
    except (ValueError, InvalidOperation) as exc:
        raise ValueError(f"{name.upper()}={raw!r} is not a valid {kind_name}") from exc
    return raw
