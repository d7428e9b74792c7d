"""Sending mail: through SMTP when a host is configured, else into the instance folder.

Development needs no mail server: each message is written to ``<instance>/mail/`` as an
``.eml`` file, the development mailbox; the log names the file, never the body (a reset link
is a secret until used). With ``MUSICREC_SMTP_HOST`` set, messages go out
through ``smtplib`` on a background thread, so a request never waits for the mail server (and
the time of an answer does not tell whether a message was sent).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from musicrec.config import Settings
from musicrec.db.types import utcnow

log = logging.getLogger("musicrec.mail")
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, message: Message) -> None: ...


def _email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, message.to, message.subject
    mail.set_content(message.body)
    return mail


class FolderMailer:
    """Development: the message as a file in ``folder``; the log says where, not what."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        path = self.folder / name
        path.write_bytes(bytes(_email(message, self.sender)))
        log.info("mail to %s written to %s", message.to, path)


class SmtpMailer:
    """Production: the message through the configured SMTP server, on a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        threading.Thread(target=self.deliver, args=(message,), daemon=True).start()

    def deliver(self, message: Message) -> None:
        current = self.settings
        try:
            if current.smtp_tls == "ssl":
                context = ssl.create_default_context()
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    current.smtp_host,
                    current.smtp_port,
                    timeout=SMTP_TIMEOUT_SECONDS,
                    context=context,
                )
            else:
                server = smtplib.SMTP(
                    current.smtp_host, current.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
                )
            with server:
                if current.smtp_tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if current.smtp_user:
                    server.login(current.smtp_user, current.smtp_password)
                server.send_message(_email(message, current.mail_from))
            log.info("mail sent to %s: %s", message.to, message.subject)
        except (OSError, smtplib.SMTPException):
            log.exception("could not send mail to %s", message.to)


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings)
    return FolderMailer(settings.instance_dir / "mail", settings.mail_from)
