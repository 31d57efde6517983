"""Sends mail jobs through an SMTP server with aiosmtplib, one connection per mail.

SMTP replies sort failures: a 5xx refusal of the mail or of every recipient is permanent (the
same mail would be refused again), except a failed login, which is the server's settings and
retries until someone fixes them; a 4xx, a refused or dropped connection, a timeout or a TLS
problem are temporary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

import aiosmtplib

from ..domain.mail import Attachment, MailJob
from ..services.mail import DeliveryFailed
from .message import build_message


@dataclass(frozen=True)
class SmtpOptions:
    server: str = "localhost"
    port: int = 587
    username: str = ""
    password: str = ""
    sender: str = "sales@example.com"
    starttls: bool = True  # upgrade with STARTTLS, and refuse a server that does not offer it
    tls: bool = False  # TLS from the first byte (port 465)
    timeout: float = 30.0  # seconds, for the connection and each command


class SmtpSender:
    def __init__(self, options: SmtpOptions) -> None:
        self._options = options

    async def send(self, job: MailJob, attachments: Sequence[Attachment]) -> dict[str, str]:
        o = self._options
        message = build_message(job, o.sender, attachments)
        try:
            refused, _ = await aiosmtplib.send(
                message, sender=_address(o.sender), recipients=list(job.mail.to),
                hostname=o.server, port=o.port, username=o.username or None,
                password=o.password or None, use_tls=o.tls, start_tls=o.starttls and not o.tls,
                timeout=o.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryFailed("; ".join(f"{r.recipient}: {r.code} {r.message}"
                                           for r in exc.recipients),
                                 permanent=all(code >= 500 for code in codes),
                                 code=max(codes, default=0)) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"login refused: {exc.code} {exc.message}", permanent=False,
                                 code=exc.code) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"{exc.code} {exc.message}", permanent=exc.code >= 500,
                                 code=exc.code) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        return {address: f"{reply.code} {reply.message}" for address, reply in refused.items()}


def _address(sender: str) -> str:
    """The bare address of `Sales <sales@example.com>`, for the envelope's MAIL FROM."""
    return parseaddr(sender)[1] or sender


def sender_domain(sender: str) -> str:
    """The domain of the sender's address: the right-hand side of every Message-ID."""
    return _address(sender).rpartition("@")[2] or "localhost"
