"""The sending backends: Twilio and SMTP, or the outbox that keeps messages for people to read.

A backend takes a plain description of one SMS or email (no database objects:
dispatcher threads call it) and answers with a ``SendResult``: sent, kept,
retry (a temporary problem) or failed (permanent: retrying cannot help).
Backends are chosen by ``RJ_SMS_BACKEND`` and ``RJ_EMAIL_BACKEND``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Literal, Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from rj_scheduler.notify.twilio_http import BaseUrlTwilioHttpClient, PooledTwilioHttpClient

# Twilio errors that retrying cannot fix: invalid number, unsubscribed
# recipient (replied STOP), not a mobile number, region not enabled, no route.
PERMANENT_TWILIO_CODES = frozenset({21211, 21408, 21610, 21612, 21614})
TWILIO_ERROR_MEANINGS = {
    21211: "The mobile number is not valid.",
    21408: "The account may not send SMS to this region.",
    21610: "The person has replied STOP to this service's number: Twilio will not send them SMS.",
    21612: "Twilio cannot send an SMS to this number.",
    21614: "The number is not a mobile number.",
}
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"

Outcome = Literal["sent", "kept", "retry", "failed"]


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_id: str | None = None
    provider_status: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int
    to: str
    body: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    message_id: int
    public_id: str
    to: str
    to_name: str | None
    subject: str
    text: str
    html: str | None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class SmsBackend(Protocol):
    name: str

    def send_sms(self, sms: OutgoingSms) -> SendResult: ...


class EmailBackend(Protocol):
    name: str

    def send_email(self, email: OutgoingEmail) -> SendResult: ...


class OutboxBackend:
    """Sends nothing: the message is marked kept and shown on the manager's Outbox page."""

    name = "outbox"

    def send_sms(self, sms: OutgoingSms) -> SendResult:
        return SendResult("kept")

    def send_email(self, email: OutgoingEmail) -> SendResult:
        return SendResult("kept")


class TwilioSmsBackend:
    """Sends SMS with the official twilio library, asking for status callbacks."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        public_url: str,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        api_base_url: str | None = None,
        pool_size: int = 16,
        timeout: float = 30.0,
    ) -> None:
        if not messaging_service_sid and not from_number:
            raise ValueError("Twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.")
        http_client = (
            BaseUrlTwilioHttpClient(api_base_url, pool_size=pool_size, timeout=timeout)
            if api_base_url
            else PooledTwilioHttpClient(pool_size=pool_size, timeout=timeout)
        )
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback = public_url.rstrip("/") + STATUS_CALLBACK_PATH

    def send_sms(self, sms: OutgoingSms) -> SendResult:
        arguments: dict[str, Any] = {"to": sms.to, "body": sms.body, "status_callback": self.status_callback}
        if self.messaging_service_sid:
            arguments["messaging_service_sid"] = self.messaging_service_sid
        else:
            arguments["from_"] = self.from_number
        try:
            created = self.client.messages.create(**arguments)
        except TwilioRestException as error:
            return classify_twilio_error(error)
        except (requests.RequestException, TwilioException, OSError) as error:
            return SendResult("retry", error=f"Could not reach Twilio ({type(error).__name__}).")
        return SendResult("sent", provider_id=created.sid, provider_status=created.status)


def classify_twilio_error(error: TwilioRestException) -> SendResult:
    """Permanent for the known recipient errors and other refusals of the request; else retry."""
    code = error.code if isinstance(error.code, int) else None
    status = error.status
    if code in PERMANENT_TWILIO_CODES:
        return SendResult("failed", error=f"Twilio error {code}: {TWILIO_ERROR_MEANINGS[code]}")
    if status == 429:
        return SendResult("retry", error="Twilio asked us to slow down (429 Too Many Requests).")
    if 400 <= status < 500 and status not in (401, 403, 404, 408):
        return SendResult("failed", error=f"Twilio refused the message (HTTP {status}, error {code}).")
    return SendResult("retry", error=f"Twilio answered HTTP {status} (error {code}).")


class SmtpEmailBackend:
    """Sends multipart text and HTML email with attachments over SMTP."""

    name = "smtp"

    def __init__(
        self,
        *,
        server: str,
        port: int,
        sender: str,
        use_tls: bool = False,
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server = server
        self.port = port
        self.sender = sender
        self.use_tls = use_tls
        self.use_ssl = use_ssl
        self.username = username
        self.password = password
        self.timeout = timeout

    def build(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = formataddr((email.to_name, email.to)) if email.to_name else email.to
        message["Subject"] = email.subject
        domain = self.sender.rsplit("@", 1)[-1] if "@" in self.sender else None
        message["Message-ID"] = make_msgid(idstring=email.public_id, domain=domain)
        message["X-RJ-Outbox-Message"] = email.public_id
        message.set_content(email.text)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        # Outlook, Gmail and Apple Mail show an invitation from a text/calendar alternative (iMIP,
        # RFC 6047); other programs look for an attached .ics. The first invitation goes both ways.
        invitations = [item for item in email.attachments if _calendar_method(item)]
        if invitations:
            # As bytes, so the file's CRLF line ends (RFC 5545) reach the reader unchanged.
            message.add_alternative(
                invitations[0].content,
                maintype="text",
                subtype="calendar",
                params={"method": _calendar_method(invitations[0]), "charset": "UTF-8"},
            )
        for attachment in email.attachments:
            if _calendar_method(attachment):
                message.add_attachment(
                    attachment.content,
                    maintype="application",
                    subtype="ics",
                    filename=attachment.filename,
                    params={"name": attachment.filename},
                )
                continue
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=(subtype or "octet-stream").split(";")[0],
                filename=attachment.filename,
            )
        return message

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(
                self.server, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        connection = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
        if self.use_tls:
            connection.starttls(context=ssl.create_default_context())
        return connection

    def send_email(self, email: OutgoingEmail) -> SendResult:
        message = self.build(email)
        try:
            with self._connect() as connection:
                if self.username and self.password:
                    connection.login(self.username, self.password)
                refused = connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            return _smtp_result(codes[0] if codes else 550, "refused the recipient")
        except smtplib.SMTPResponseException as error:
            return _smtp_result(error.smtp_code, "refused the message")
        except (smtplib.SMTPException, OSError) as error:
            return SendResult("retry", error=f"Could not reach the SMTP server ({type(error).__name__}).")
        if refused:
            code = next(iter(refused.values()))[0]
            return _smtp_result(code, "refused the recipient")
        return SendResult("sent", provider_id=message["Message-ID"].strip("<>")[:64])


def _calendar_method(attachment: Attachment) -> str | None:
    """The iTIP method of an invitation (``text/calendar; method=...``), or None for any other file.

    RFC 6047 (iMIP) makes the ``method`` parameter what turns a calendar file into an invitation: a
    plain ``text/calendar`` file without one is attached as it is.
    """
    kind, *parameters = attachment.content_type.split(";")
    if kind.strip().lower() != "text/calendar":
        return None
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "method" and value.strip().strip('"'):
            return value.strip().strip('"').upper()
    return None


def _smtp_result(code: int, what: str) -> SendResult:
    if 500 <= code < 600:
        return SendResult("failed", error=f"The SMTP server {what} (code {code}).")
    return SendResult("retry", error=f"The SMTP server {what} for now (code {code}).")


def sms_backend_from_config(config: Mapping[str, Any]) -> SmsBackend:
    if config["RJ_SMS_BACKEND"] == "twilio":
        return TwilioSmsBackend(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            public_url=config["RJ_PUBLIC_URL"],
            messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
            from_number=config.get("TWILIO_FROM_NUMBER"),
            api_base_url=config.get("TWILIO_API_BASE_URL"),
            pool_size=int(config.get("RJ_DISPATCH_THREADS", 16)),
        )
    return OutboxBackend()


def email_backend_from_config(config: Mapping[str, Any]) -> EmailBackend:
    if config["RJ_EMAIL_BACKEND"] == "smtp":
        return SmtpEmailBackend(
            server=config["MAIL_SERVER"],
            port=int(config["MAIL_PORT"]),
            sender=config["MAIL_DEFAULT_SENDER"],
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
        )
    return OutboxBackend()
