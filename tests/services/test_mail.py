"""Mail: written to the instance folder without an SMTP host, sent through SMTP with one."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from musicrec.config import Settings
from musicrec.services import mail
from musicrec.services.mail import FolderMailer, Message, SmtpMailer, mailer_for

MESSAGE = Message("ada@example.com", "Reset your musicrec password", "Follow http://x/reset/abc")


def test_without_an_smtp_host_mail_goes_to_the_instance_folder(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = mailer_for(settings)
    assert isinstance(mailer, FolderMailer)

    with caplog.at_level("INFO", logger="musicrec.mail"):
        mailer.send(MESSAGE)

    files = list((settings.instance_dir / "mail").glob("*.eml"))
    assert len(files) == 1
    written = message_from_bytes(files[0].read_bytes())
    assert written["To"] == "ada@example.com" and written["From"] == settings.mail_from
    assert "http://x/reset/abc" in written.get_payload()
    assert str(files[0]) in caplog.text
    assert "http://x/reset/abc" not in caplog.text  # a link in mail is a secret: never logged


class FakeSmtp:
    sent: list[Any] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.calls = host, port, []

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def starttls(self, context: Any) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", user, password))

    def send_message(self, message: Any) -> None:
        FakeSmtp.sent.append((self.host, self.port, self.calls, message))


def test_with_an_smtp_host_mail_is_sent_through_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSmtp)
    configured = replace(
        settings, smtp_host="mail.example.com", smtp_port=2525, smtp_user="app", smtp_password="pw"
    )
    mailer = mailer_for(configured)
    assert isinstance(mailer, SmtpMailer)

    mailer.deliver(MESSAGE)  # what send() runs on its background thread

    host, port, calls, message = FakeSmtp.sent[-1]
    assert (host, port) == ("mail.example.com", 2525)
    assert calls == ["starttls", ("login", "app", "pw")]
    assert message["To"] == "ada@example.com"
    assert not (tmp_path / "instance" / "mail").exists()


def test_smtp_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MUSICREC_INSTANCE_DIR": str(tmp_path),
            "MUSICREC_SMTP_HOST": "smtp.example.org",
            "MUSICREC_SMTP_PORT": "465",
            "MUSICREC_SMTP_TLS": "SSL",
            "MUSICREC_MAIL_FROM": "noreply@example.org",
        }
    )

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == (
        "smtp.example.org",
        465,
        "ssl",
    )
    assert settings.mail_from == "noreply@example.org"
