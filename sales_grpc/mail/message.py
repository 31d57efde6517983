"""A mail job as an email message: headers, the text body and the attachments."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime

from ..domain.mail import Attachment, MailJob


def build_message(job: MailJob, sender: str, attachments: Sequence[Attachment]
                  ) -> EmailMessage:
    """The same job gives the same headers on every attempt: its Message-ID, and its Date
    taken from when the mail was asked for, so a resent copy is recognisably the same mail."""
    mail = job.mail
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(job.create_time)
    message["Message-ID"] = job.message_id
    message.set_content(mail.body)
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype,
                               subtype=subtype or "octet-stream", filename=attachment.filename)
    return message
