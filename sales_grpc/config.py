"""Settings read once from the environment, with the names of the service description."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .domain.numbering import (
    CREDIT_NOTE,
    CUSTOMER_CODE,
    INVOICE,
    QUOTE,
    SALES_ORDER,
    Policy,
    Reset,
    Series,
    SeriesError,
)

_DEV_SECRET = "dev-only-secret-change-me-in-production-0001"


LOG_FORMATS = ("text", "json")
READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred",
                    "nearest")


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
    # `text` (one line per record, for people) or `json` (one JSON object per line, for log
    # shippers); observability/logs.py.
    log_format: str = "text"
    # Serve Prometheus metrics on this port at /metrics (observability/metrics.py); unset or
    # empty: no endpoint. 0 picks a free port (tests).
    metrics_port: int | None = None
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
    # STARTTLS on the submission port, required while on (a server that does not offer it is
    # a temporary failure), so a password never crosses in clear; SMTP_TLS for a server that
    # speaks TLS from the first byte (port 465), which makes SMTP_STARTTLS moot.
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_timeout_seconds: float = 30.0
    # Mail delivery (jobs/mail_delivery.py): attempts before a mail fails, the wait after the
    # first failed one (doubling each time, at most an hour), how often an idle worker looks
    # for due mail, and how long a claimed mail stays its worker's before another may take it.
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 30.0
    mail_poll_seconds: float = 1.0
    mail_lease_seconds: float = 120.0
    default_tax_rate: Decimal = Decimal("0.15")
    default_discount_limit: Decimal = Decimal("0.20")
    default_currency: str = "USD"
    shutdown_grace_seconds: float = 10.0
    order_number_format: str = "SO-{year}-{seq:06d}"
    # Order numbers each process draws per database round trip. 1 keeps numbers in creation
    # order across instances; larger saves a round trip per order, and a restart skips the
    # unused rest of a block (numbers stay unique either way).
    order_number_block: int = 10
    customer_code_format: str = "CUST-{seq:06d}"
    quote_number_format: str = "QT-{year}-{seq:06d}"
    quote_number_block: int = 10
    # A quote is valid this many days after its creation unless valid_until says otherwise.
    quote_validity_days: int = 30
    # How often each server records the expiry of sent quotes past their day.
    quote_expiry_seconds: float = 60.0
    # How often each server writes the InvoiceOverdue events of invoices past their due day.
    invoice_overdue_seconds: float = 60.0
    # How often each server's revenue projector looks for new outbox events when idle: a
    # confirmed order shows in the analytics within about this long.
    analytics_poll_seconds: float = 1.0
    # Where analytics queries read: `primary`, or `primaryPreferred`, `secondary`,
    # `secondaryPreferred`, `nearest` on a replica set to move analytics load off the primary
    # (answers may then lag the primary by the replication delay). Writes, and every other
    # read, stay on the primary.
    read_preference: str = "primary"
    # Invoices and credit notes are numbered without gaps, inside the issuing transaction.
    invoice_number_format: str = "INV-{year}-{seq:06d}"
    credit_note_number_format: str = "CN-{year}-{seq:06d}"
    # Calls of one List*/Search* method that may run at once; one more waits up to
    # LIST_WAIT_SECONDS for a place, then is RESOURCE_EXHAUSTED (bench/list_isolation.py).
    list_concurrency_limit: int = 2
    list_wait_seconds: float = 0.1
    # BSON bytes of records one List page may carry before it ends early with a token.
    list_page_bytes: int = 2 * 1024 * 1024
    # The seller on every printed document (documents/). COMPANY_ADDRESS has one line per
    # line of the address, separated by newlines or by a literal `\n`.
    company_name: str = "Example Sales Ltd."
    company_address: str = ""
    company_tax_id: str = ""
    company_logo_path: str = ""  # a PNG or JPEG printed above the company name
    # Processes that render PDFs (started on the first render), so rendering never runs on
    # the event loop; each render takes one of them for 0.1 to 0.5 s of CPU.
    pdf_workers: int = 2
    # Server processes `serve` runs on one port (SO_REUSEPORT, Linux); `--workers` overrides.
    workers: int = 1
    # Server limits (api/server.py, api/interceptors.py). Sales calls in progress at once in
    # one server process; one more is refused at once with RESOURCE_EXHAUSTED and a RetryInfo
    # (health and reflection are never refused).
    max_calls_in_progress: int = 256
    # The deadline of a unary sales call that arrives without one; server-streaming calls
    # (PDFs, exports) have none by default: see MAX_CONNECTION_AGE_GRACE_SECONDS.
    default_call_deadline_seconds: float = 60.0
    max_receive_message_bytes: int = 4 * 1024 * 1024
    max_send_message_bytes: int = 4 * 1024 * 1024
    # Calls in flight on one HTTP/2 connection. gRPC refuses the streams past it
    # (REFUSED_STREAM: the caller sees UNAVAILABLE; its client does not queue them), so it is
    # above MAX_CALLS_IN_PROGRESS: an overloaded server answers RESOURCE_EXHAUSTED first.
    max_concurrent_streams: int = 512
    # A connection without calls for this long is closed (below the 350 s idle timeout of
    # common cloud load balancers, which drop idle connections without a word).
    max_connection_idle_seconds: float = 300.0
    # A connection this old (+-10%) is asked to go away (GOAWAY), so clients reconnect and a
    # load balancer spreads them over replicas that started since; its calls in flight get
    # MAX_CONNECTION_AGE_GRACE_SECONDS more to finish, then the connection is closed.
    max_connection_age_seconds: float = 300.0
    max_connection_age_grace_seconds: float = 300.0

    @property
    def allowed_algorithms(self) -> tuple[str, ...]:
        """ALGORITHM may list several, comma-separated (e.g. `RS256,ES256` for a JWKS)."""
        return tuple(a.strip() for a in self.algorithm.split(",") if a.strip())

    def number_series(self) -> dict[str, Series]:
        """Every number series, checked: a format or block that cannot give unique numbers
        is a ValueError naming its variable (raised by from_env and by bootstrap.build)."""
        specs = [(SALES_ORDER, "order_number_format", Policy.BLOCK, Reset.YEARLY,
                  "order_number_block"),
                 (CUSTOMER_CODE, "customer_code_format", Policy.BLOCK, Reset.NEVER, ""),
                 (QUOTE, "quote_number_format", Policy.BLOCK, Reset.YEARLY, "quote_number_block"),
                 (INVOICE, "invoice_number_format", Policy.GAPLESS, Reset.YEARLY, ""),
                 (CREDIT_NOTE, "credit_note_number_format", Policy.GAPLESS, Reset.YEARLY, "")]
        series: dict[str, Series] = {}
        for name, format_field, policy, reset, block_field in specs:
            block = getattr(self, block_field) if block_field else 1
            if block < 1:
                raise ValueError(f"{block_field.upper()}={block} must be at least 1")
            fmt = getattr(self, format_field)
            try:
                series[name] = Series(name, fmt, policy, reset, block)
            except SeriesError as exc:
                raise ValueError(f"{format_field.upper()}={fmt!r}: {exc}") from None
        return series

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
        if isinstance(values.get("log_format"), str):
            values["log_format"] = str(values["log_format"]).strip().lower()
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.environment == "production" and settings.secret_key == _DEV_SECRET:
            raise ValueError("SECRET_KEY must be set in production")
        settings.number_series()
        _check_ranges(settings)
        if settings.read_preference not in READ_PREFERENCES:
            raise ValueError(f"READ_PREFERENCE={settings.read_preference!r} must be one of "
                             f"{', '.join(READ_PREFERENCES)}")
        if settings.log_format not in LOG_FORMATS:
            raise ValueError(f"LOG_FORMAT={settings.log_format!r} must be one of "
                             f"{', '.join(LOG_FORMATS)}")
        if settings.metrics_port is not None and not 0 <= settings.metrics_port <= 65535:
            raise ValueError(f"METRICS_PORT={settings.metrics_port} must be from 0 to 65535")
        if settings.metrics_port and settings.metrics_port == settings.service_port:
            raise ValueError(f"METRICS_PORT={settings.metrics_port} must differ from "
                             "SERVICE_PORT")
        logo = settings.company_logo_path
        if logo and not os.path.isfile(logo):
            raise ValueError(f"COMPANY_LOGO_PATH={logo!r} is not a readable file")
        return settings


# Every numeric setting's range: (names, test, what the value must be).
_RANGES: tuple[tuple[tuple[str, ...], Callable[[Any], bool], str], ...] = (
    (("list_concurrency_limit", "list_page_bytes", "pdf_workers", "mail_max_attempts",
      "workers", "max_calls_in_progress", "max_concurrent_streams"),
     lambda v: v >= 1, "be at least 1"),
    (("max_receive_message_bytes", "max_send_message_bytes"),
     lambda v: v >= 1024, "be at least 1024"),
    (("analytics_poll_seconds", "smtp_timeout_seconds", "mail_retry_seconds",
      "mail_poll_seconds", "mail_lease_seconds", "default_call_deadline_seconds",
      "max_connection_idle_seconds", "max_connection_age_seconds",
      "max_connection_age_grace_seconds"),
     lambda v: v > 0, "be positive"),
    (("list_wait_seconds",), lambda v: v >= 0, "not be negative"),
)


def _check_ranges(settings: Settings) -> None:
    for names, fits, must in _RANGES:
        for name in names:
            value = getattr(settings, name)
            if not fits(value):  # `not` so that NaN fails too
                raise ValueError(f"{name.upper()}={value} must {must}")


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True,
             "false": False, "0": False, "no": False, "off": False}


def _convert(name: str, raw: str, kind: object) -> object:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind_name.endswith(" | None"):  # optional: empty means unset
        if not raw.strip():
            return None
        kind_name = kind_name.removesuffix(" | None")
    if kind_name == "bool":
        if raw.strip().lower() not in _BOOLEANS:
            raise ValueError(f"{name.upper()}={raw!r} is not true or false")
        return _BOOLEANS[raw.strip().lower()]
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
