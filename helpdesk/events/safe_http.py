"""One outgoing POST that a subscriber's URL cannot turn against the site (SSRF).

The host name is resolved here and every address it resolves to is checked before the
socket connects to exactly that address (so a name that resolves to a public address
when checked and to a private one when connecting cannot slip through). Link-local and
cloud-metadata addresses are refused always; private, loopback and other non-global
ones unless ``allow_private``. Redirects are never followed, each socket operation has a
timeout and the whole exchange a deadline, and at most ``max_bytes`` of the answer are read.
Standard library only: ``http.client`` follows no redirects and reads no proxy settings.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Refused whatever the settings say: link-local (cloud metadata lives at 169.254.169.254)
#: and AWS's IPv6 metadata address.
ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
)


class Refused(Exception):
    """The URL may not be called (scheme, address); not worth retrying."""


@dataclass
class Answer:
    status: int
    body: bytes
    duration_ms: int


def check_address(ip: str, *, allow_private: bool) -> None:
    """Raise ``Refused`` if ``ip`` may not be connected to."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in ALWAYS_REFUSED if network.version == address.version):
        raise Refused(f"{address} is a link-local or cloud-metadata address, which is always refused.")
    if address.is_multicast:
        raise Refused(f"{address} is a multicast address.")
    if not allow_private and not address.is_global:
        raise Refused(f"{address} is a private or loopback address (HELPDESK WEBHOOK_ALLOW_PRIVATE is off).")


def check_url(url: str, *, allow_private: bool) -> None:
    """What can be said of a URL without resolving it: scheme, host, a literal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("Use an http or https URL.")
    if not parts.hostname:
        raise Refused("The URL has no host.")
    if parts.username or parts.password:
        raise Refused("The URL may not carry a user name or password.")
    try:
        parts.port
    except ValueError:
        raise Refused("The URL's port is not a number from 1 to 65535.") from None
    try:
        ipaddress.ip_address(parts.hostname.split("%", 1)[0])
    except ValueError:
        if parts.hostname.lower().rstrip(".") in ("localhost", "localhost.localdomain") and not allow_private:
            raise Refused("localhost is a loopback address (HELPDESK WEBHOOK_ALLOW_PRIVATE is off).") from None
        return
    check_address(parts.hostname, allow_private=allow_private)


def _connect(host: str, port: int, timeout: float, allow_private: bool) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"Cannot resolve {host}: {exc}") from exc
    # Every address the name has must be allowed, not only the one tried first.
    for info in infos:
        check_address(info[4][0], allow_private=allow_private)
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError(f"Cannot connect to {host}.")


class _HTTPConnection(http.client.HTTPConnection):
    allow_private = False

    def connect(self) -> None:
        self.sock = _connect(self.host, self.port, self.timeout, self.allow_private)


class _HTTPSConnection(http.client.HTTPSConnection):
    allow_private = False

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self.timeout, self.allow_private)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, max_bytes: int,
         allow_private: bool) -> Answer:
    """POST ``body`` to ``url``; the answer's status and at most ``max_bytes`` of its body.

    Raises ``Refused`` for a URL or address that may not be called, ``OSError`` (including
    ``TimeoutError``) and ``http.client.HTTPException`` for network trouble.
    """
    check_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    started = time.monotonic()
    deadline = started + timeout * 2
    cls = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    kwargs = {"context": ssl.create_default_context()} if parts.scheme == "https" else {}
    connection = cls(parts.hostname, parts.port, timeout=timeout, **kwargs)
    connection.allow_private = allow_private
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size < max_bytes:
            if time.monotonic() > deadline:
                raise TimeoutError("The receiver took too long to answer.")
            chunk = response.read1(min(16384, max_bytes - size)) if hasattr(response, "read1") else response.read(
                min(16384, max_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return Answer(response.status, b"".join(chunks), int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
