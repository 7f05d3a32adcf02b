"""RFC 5322 bytes → a ``ParsedMail``: addresses, threading headers, clean text, sanitized
HTML, files, and whether it is an auto-reply or a bounce. Touches no database.

Text comes from the ``text/plain`` part, or from the HTML when there is none (converted
here, with no third-party parser); the HTML is kept sanitized with nh3 for display.
Charsets a part declares wrongly or not at all fall back to UTF-8 with replacement, then
Latin-1: a mail is never refused for its encoding.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from typing import Any

import nh3


class UnparseableMail(ValueError):
    """The bytes are not a mail we can read (no headers, no sender address)."""


@dataclass
class MailFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    from_address: str
    from_name: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    files: list[MailFile] = field(default_factory=list)
    #: "auto_reply", "bounce" or "" (a person wrote it).
    automatic: str = ""
    #: True when ``message_id`` was made up (the mail had none): a digest of the bytes.
    synthetic_id: bool = False


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str | None) -> list[str]:
    """The ``<...>`` ids in a header value, in order, without duplicates."""
    return list(dict.fromkeys(_MSGID.findall(str(value or ""))))


def _unescape(value: str) -> str:
    """A header as the parser left it (raw 8-bit bytes as surrogates) → text: UTF-8, else Latin-1."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("ascii", "surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode("latin-1")
    return re.sub(r"\r?\n[ \t]+", " ", value)


def _raw_values(msg: Message, name: str) -> list[str]:
    name = name.lower()
    return [_unescape(str(v)) for k, v in msg.raw_items() if k.lower() == name]


def _header(msg: Message, name: str) -> str:
    values = _raw_values(msg, name)
    return values[0].strip() if values else ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    found = []
    for display, address in email.utils.getaddresses([_decode_words(v) for v in _raw_values(msg, name)]):
        address = address.strip()
        if "@" in address and " " not in address:
            found.append((display.strip(), address))
    return found


def _filename(part: Message) -> str:
    """The part's file name (RFC 2231 or 2047 encoded, or raw 8-bit), or ""."""
    probe = Message()
    for name in ("Content-Disposition", "Content-Type"):
        value = _header(part, name)
        if value:
            probe[name] = value
    try:
        filename = probe.get_filename() or ""
    except Exception:
        filename = ""
    return _decode_words(str(filename)) if filename else ""


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words, any charset, never an exception."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:
        return value


def _payload_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


# -- HTML ------------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"}
_SKIP = {"style", "script", "head", "title"}


class _TextExtractor(HTMLParser):
    """HTML → plain text: blocks become lines, quotes become ``> `` lines, links keep the URL."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
            self.out.append("\n")
        elif tag in _BLOCK:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self.out.append("\n")
        elif tag in _BLOCK:
            self.out.append("\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith(("http://", "https://")) and href not in "".join(self.out[-3:]):
                self.out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"\s+", " ", data)
        if self.quote:
            text = "\x00" * self.quote + text  # marks a quoted run; turned into "> " per line below
        self.out.append(text)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return re.sub(r"<[^>]+>", " ", markup)
    lines = []
    for line in "".join(parser.out).split("\n"):
        depth = line.count("\x00")
        line = line.replace("\x00", "").strip()
        lines.append(("> " * depth + line) if depth and line else line)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sanitize_html(markup: str) -> str:
    """HTML safe to show inside the admin: nh3's defaults (no scripts, styles or handlers),
    links opened without a referrer, ``cid:`` images kept for inline attachments."""
    return nh3.clean(markup, url_schemes={"http", "https", "mailto", "cid"}, link_rel="noopener noreferrer nofollow")


def display_html(markup: str, cid_urls: dict[str, str]) -> str:
    """Stored (sanitized) mail HTML made ready to show on the ticket page: sanitized again
    (defence in depth), remote images dropped (no tracking pixels fire when an agent reads
    it), inline ``cid:`` images pointed at their attachment's download URL."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if not value.startswith("cid:"):
                return None
            return cid_urls.get(value[4:].strip("<>"))
        return value

    return nh3.clean(markup, url_schemes={"http", "https", "mailto", "cid"}, attribute_filter=keep,
                     link_rel="noopener noreferrer nofollow")


# -- quoted history and signatures ---------------------------------------------------------

_QUOTE_HEADERS = [
    re.compile(r"^On .{5,200}wrote:\s*$", re.M),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^On .{5,200}\n.{0,200}wrote:\s*$", re.M),  # the same, wrapped
    re.compile(r"^Am .{5,200}schrieb .{0,200}:\s*$", re.M),
    re.compile(r"^Le .{5,200}a écrit\s*:\s*$", re.M),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}\s*$", re.M | re.I),  # Outlook (plain)
    re.compile(r"^_{10,}\s*$\n^(From|Von|De):", re.M),  # Outlook (HTML → text)
    re.compile(r"^(From|Von|De): .+\n(Sent|Gesendet|Envoyé|Date): .+$", re.M),
]
_SIGNATURE = re.compile(r"^-- ?$", re.M)


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted history (``On … wrote:``, Outlook's headers, ``>``
    lines at the end) and the signature (after ``-- ``) cut off. Never empty when the
    text was not: a reply that is all quote keeps its text."""
    cut = len(text)
    for pattern in _QUOTE_HEADERS:
        match = pattern.search(text)
        if match and match.start() < cut:
            cut = match.start()
    trimmed = text[:cut]
    match = _SIGNATURE.search(trimmed)
    if match:
        trimmed = trimmed[: match.start()]
    lines = trimmed.rstrip().split("\n")
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    result = "\n".join(lines).strip()
    return result or text.strip()


# -- automatic mail ------------------------------------------------------------------------------


def _automatic(msg: Message, from_address: str) -> str:
    content_type = msg.get_content_type()
    report = (msg.get_param("report-type") or "").lower() if content_type == "multipart/report" else ""
    local = from_address.split("@")[0].lower()
    if report in ("delivery-status", "disposition-notification") or content_type == "message/delivery-status":
        return "bounce"
    if local in ("mailer-daemon", "postmaster") or _header(msg, "X-Failed-Recipients"):
        return "bounce"
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "auto_reply"
    if _header(msg, "Precedence").lower() in ("bulk", "junk", "list", "auto_reply"):
        return "auto_reply"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Self"):
        if _header(msg, name):
            return "auto_reply"
    if _header(msg, "X-Auto-Response-Suppress").lower() in ("all", "oof") and "out of office" in _header(
        msg, "Subject"
    ).lower():
        return "auto_reply"
    return ""


# -- the parser ----------------------------------------------------------------------------------


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one RFC 5322 message; raises ``UnparseableMail`` if it has no usable sender."""
    if not isinstance(raw, (bytes, bytearray)) or not raw.strip():
        raise UnparseableMail("empty message")
    try:
        msg: Any = email.message_from_bytes(bytes(raw), policy=email.policy.compat32)
    except Exception as exc:  # pragma: no cover - compat32 parses anything into something
        raise UnparseableMail(f"not a mail: {exc}") from exc
    if not msg.keys():
        raise UnparseableMail("no headers")
    if msg.defects and any(type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects) and not (
        msg.get("From")
    ):
        raise UnparseableMail("no header/body separator and no From")
    senders = _addresses(msg, "from") or _addresses(msg, "sender") or _addresses(msg, "return-path")
    if not senders:
        raise UnparseableMail("no sender address (From)")
    from_name, from_address = senders[0]
    message_id = (message_ids(_header(msg, "Message-ID")) or [""])[0][:255]
    synthetic = not message_id
    if synthetic:
        message_id = f"<sha256.{hashlib.sha256(bytes(raw)).hexdigest()}@helpdesk.invalid>"
    parsed = ParsedMail(
        message_id=message_id,
        subject=_decode_words(_header(msg, "Subject")).replace("\n", " ").replace("\r", "").strip(),
        from_address=from_address,
        from_name=from_name,
        to=[a for _n, a in _addresses(msg, "to")],
        cc=[a for _n, a in _addresses(msg, "cc")],
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        automatic=_automatic(msg, from_address),
        synthetic_id=synthetic,
    )
    text_parts: list[str] = []
    html_parts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = _header(part, "Content-Disposition").split(";")[0].strip().lower()
        filename = _filename(part)
        content_id = _header(part, "Content-ID").strip("<>")
        is_body = disposition != "attachment" and not filename and content_type in ("text/plain", "text/html")
        if is_body:
            (text_parts if content_type == "text/plain" else html_parts).append(_payload_text(part))
            continue
        if content_type in ("message/delivery-status",):
            continue
        content = part.get_payload(decode=True)
        if content is None:  # e.g. message/rfc822: keep the embedded mail as a file
            payload = part.get_payload()
            content = payload[0].as_bytes() if isinstance(payload, list) and payload else str(payload).encode()
        if not filename:
            extension = {"message/rfc822": ".eml"}.get(content_type, "")
            filename = (content_id or "attachment") + extension
        parsed.files.append(MailFile(
            filename=filename, content_type=content_type, content=content, content_id=content_id,
            inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
        ))
    markup = "\n".join(html_parts)
    if markup.strip():
        parsed.html = sanitize_html(markup)
    text = "\n\n".join(p.strip() for p in text_parts if p.strip())
    if not text and markup.strip():
        text = html_to_text(markup)
    parsed.text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    return parsed
