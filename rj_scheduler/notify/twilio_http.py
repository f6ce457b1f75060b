"""An HTTP client for the twilio library that sends its requests to another base URL.

``TWILIO_API_BASE_URL`` points the library at a local contract mock (tests,
demos). This goes through the library's own pluggable client
(``Client(http_client=...)``), so the library itself is not patched: only the
scheme and host of each URL it builds are replaced, the path and query kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response


class PooledTwilioHttpClient(TwilioHttpClient):
    """Twilio's client with a connection pool big enough for a dispatcher's threads."""

    def __init__(self, pool_size: int = 16, timeout: float = 30.0) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4))
        if self.session is not None:
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)


class BaseUrlTwilioHttpClient(PooledTwilioHttpClient):
    """Sends every request to ``base_url`` (scheme and host) instead of Twilio's hosts."""

    def __init__(self, base_url: str, pool_size: int = 16, timeout: float = 30.0) -> None:
        super().__init__(pool_size=pool_size, timeout=timeout)
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"TWILIO_API_BASE_URL must be an http(s) URL, not {base_url!r}.")
        self.base_scheme = parts.scheme
        self.base_netloc = parts.netloc
        self.base_path = parts.path

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(
            (self.base_scheme, self.base_netloc, self.base_path + parts.path, parts.query, parts.fragment)
        )

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,  # type: ignore[no-untyped-def]
                allow_redirects=False) -> Response:  # fmt: skip
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
