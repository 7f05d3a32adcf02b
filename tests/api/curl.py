"""Run documented ``curl`` commands through Django's test client (or a real curl)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

BASE = "https://your-domain"
KEY = "YOUR_API_KEY"


@dataclass
class Curl:
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: list[str] = field(default_factory=list)
    get: bool = False
    #: ``-F name=value`` / ``-F name=@file`` (multipart); a file's content is made up from its name.
    form: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def parse(command: str) -> Curl:
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", command
    curl = Curl()
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            curl.method = next(it)
        elif word == "-H":
            name, _, value = next(it).partition(":")
            curl.headers[name.strip()] = value.strip()
        elif word in ("-d", "--data", "--data-raw"):
            curl.data.append(next(it))
        elif word == "--data-urlencode":
            name, _, value = next(it).partition("=")
            curl.data.append(f"{name}={quote_plus(value)}")
        elif word == "-G":
            curl.get = True
        elif word == "-F":
            name, _, value = next(it).partition("=")
            curl.form.append((name, value))
        elif word in ("-O", "-J", "-OJ", "-JO"):
            pass  # where curl saves a download: nothing to send
        elif word.startswith("-"):
            raise AssertionError(f"unsupported curl option {word} in {command!r}")
        else:
            curl.url = word
    if (curl.data or curl.form) and not curl.get and curl.method == "GET":
        curl.method = "POST"
    return curl


def run(client, curl: Curl, key: str):
    """Send ``curl`` with Django's test client, as curl would send it."""
    headers = {}
    content_type = "application/x-www-form-urlencoded"
    for name, value in curl.headers.items():
        value = value.replace(KEY, key)
        if name.lower() == "content-type":
            content_type = value
        else:
            headers["HTTP_" + name.upper().replace("-", "_")] = value
    path = curl.path
    if curl.form:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test.client import encode_multipart

        fields: dict[str, list] = {}
        for name, value in curl.form:
            if value.startswith("@"):
                value = SimpleUploadedFile(value[1:], f"example content of {value[1:]}".encode())
            fields.setdefault(name, []).append(value)
        boundary = "BoUnDaRyCuRl"
        body = encode_multipart(boundary, {k: v if len(v) > 1 else v[0] for k, v in fields.items()})
        return client.generic(curl.method, path, body, content_type=f"multipart/form-data; boundary={boundary}",
                              **headers)
    body = "&".join(curl.data)
    if curl.get:
        path += ("&" if "?" in path else "?") + body
        return client.generic(curl.method, path, **headers)
    return client.generic(curl.method, path, body, content_type=content_type, **headers)


def commands_in(path: Path) -> list[str]:
    """Every ``curl …`` command of a text file (line continuations joined)."""
    text = path.read_text()
    return [m.group(0) for m in re.finditer(r"^curl (?:.*\\\n)*.*$", text, flags=re.M)]
