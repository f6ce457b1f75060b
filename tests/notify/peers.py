"""Real protocol peers on loopback for the messaging tests and benchmarks.

- ``SmtpServer``: aiosmtpd receiving mail; the test reads what arrived.
- ``PrismTwilio``: Twilio's published OpenAPI description (from @twilio/cli-core)
  served by Stoplight Prism, which rejects requests that break the contract.
- ``FakeTwilio``: a small Twilio-shaped HTTP server for what Prism cannot do:
  answer 500, 429 or a Twilio error code, take 100 ms per request, count requests.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
TWILIO_SPEC = ROOT / "node_modules/@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json"
PRISM = ROOT / "node_modules/.bin/prism"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+447700900001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


# --- SMTP -----------------------------------------------------------------------------------------


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.received)


# --- Prism serving Twilio's contract ---------------------------------------------------------------


class PrismTwilio:
    """``prism mock twilio_api_v2010.json`` on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not PRISM.exists() or not TWILIO_SPEC.exists():
            raise RuntimeError(
                "run `npm install` first: @stoplight/prism-cli and @twilio/cli-core are needed"
            )
        self.process = subprocess.Popen(
            [str(PRISM), "mock", str(TWILIO_SPEC), "-h", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=120)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


# --- A Twilio-shaped server with faults ------------------------------------------------------------


@dataclass
class FakeTwilioBehaviour:
    delay: float = 0.0
    # (HTTP status, Twilio error code) answered instead of success, for the next N requests (None: all).
    fault: tuple[int, int | None] | None = None
    fault_count: int | None = None
    per_number: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The SID to answer with (default: a new random one per message).
    sid: str | None = None


class FakeTwilio:
    """Answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` like Twilio, and records each request."""

    def __init__(self, behaviour: FakeTwilioBehaviour | None = None, port: int | None = None) -> None:
        self.behaviour = behaviour or FakeTwilioBehaviour()
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.port = port or free_port()
        self.server: ThreadingHTTPServer | None = None
        self.on_request: Callable[[dict[str, str]], None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if "To" not in form or "Body" not in form:  # a client that died mid-request
                    return self._answer(400, {"code": 21604, "message": "'To' is required", "status": 400})
                if not self.path.endswith("/Messages.json") or "Authorization" not in self.headers:
                    return self._answer(400, {"code": 20001, "message": "bad request", "status": 400})
                behaviour = fake.behaviour
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                with fake.lock:
                    fake.requests.append(form)
                    fault = behaviour.per_number.get(form.get("To", ""))
                    faulty = behaviour.fault is not None and (
                        behaviour.fault_count is None or behaviour.fault_count > 0
                    )
                    if fault is None and faulty:
                        fault = behaviour.fault
                        if behaviour.fault_count is not None:
                            behaviour.fault_count -= 1
                if fake.on_request is not None:
                    fake.on_request(form)
                if fault is not None:
                    status, code = fault
                    return self._answer(
                        status,
                        {"code": code, "message": f"fault {status}", "more_info": "", "status": status},
                    )
                sid = behaviour.sid or "SM" + secrets.token_hex(16)
                return self._answer(
                    201,
                    {
                        "sid": sid,
                        "status": "queued",
                        "to": form.get("To"),
                        "body": form.get("Body"),
                        "account_sid": ACCOUNT_SID,
                        "num_segments": "1",
                    },
                )

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client went away (e.g. a dispatcher killed on purpose)
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a client killed mid-request is expected in these tests

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self) -> list[str]:
        with self.lock:
            return [r.get("Body", "") for r in self.requests]


def twilio_config(base_url: str, **extra: object) -> dict[str, object]:
    """App config overrides that send SMS through Twilio at ``base_url``."""
    return {
        "RJ_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": None,
        "TWILIO_API_BASE_URL": base_url,
        **extra,
    }


def smtp_config(port: int, **extra: object) -> dict[str, object]:
    return {
        "RJ_EMAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": "rj-test@example.org",
        **extra,
    }
