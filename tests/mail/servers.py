"""Real mail servers for the tests: Debian's Dovecot (IMAP and POP3, its own config in a
temporary directory, on free loopback ports; never the system service) and aiosmtpd (the
SMTP server our outbound mail goes to, delivering into Dovecot's mailboxes).

Under ``CI=true`` a missing Dovecot fails the tests instead of skipping them.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.concurrency import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "secret"


def _wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def require_dovecot() -> None:
    if not os.path.exists(DOVECOT):
        message = "Debian's dovecot-imapd is not installed (apt-get install dovecot-imapd dovecot-pop3d)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Dovecot:
    """A private Dovecot: any user logs in with ``PASSWORD``; ``add_user`` names the ones the
    SMTP server delivers to; mail is delivered by IMAP APPEND."""

    root: Path
    imap_port: int
    pop3_port: int
    pop3: bool
    process: subprocess.Popen | None = None
    users: list[str] = field(default_factory=list)

    def add_user(self, name: str) -> str:
        """A mailbox the SMTP server delivers into (login ``name``, password ``PASSWORD``)."""
        if name not in self.users:
            self.users.append(name)
        return name

    def imap(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(user, PASSWORD)
        return client

    def deliver(self, user: str, raw: bytes) -> None:
        client = self.imap(user)
        try:
            client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
        finally:
            client.logout()

    def messages(self, user: str) -> list:
        """The messages in ``user``'s INBOX, parsed."""
        client = self.imap(user)
        try:
            client.select("INBOX")
            _status, data = client.search(None, "ALL")
            found = []
            for number in data[0].split():
                _status, parts = client.fetch(number, "(BODY.PEEK[])")
                found.append(message_from_bytes(parts[0][1], policy=policy.default))
            return found
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot() -> Dovecot:
    require_dovecot()
    pop3 = os.path.exists("/usr/lib/dovecot/pop3") or os.path.exists("/usr/libexec/dovecot/pop3")
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        mail_user = pwd.getpwuid(os.geteuid())
    (root / "home").mkdir()
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    server = Dovecot(root=root, imap_port=free_port(), pop3_port=free_port(), pop3=pop3)
    protocols = "imap pop3" if pop3 else "imap"
    pop3_service = f"""
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {server.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}""" if pop3 else ""
    (root / "dovecot.conf").write_text(f"""
protocols = {protocols}
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = hd-dovecot-{server.imap_port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {mail_user.pw_uid}
last_valid_uid = {mail_user.pw_uid}
first_valid_gid = {mail_user.pw_gid}
last_valid_gid = {mail_user.pw_gid}
mail_location = maildir:~/Maildir
# Every user name logs in with the one test password (a passwd-file would need Dovecot
# to notice each change); a mailbox exists once it is first used.
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {server.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{pop3_service}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(server.imap_port)
        if pop3:
            _wait_for_port(server.pop3_port)
    except RuntimeError:
        server.process.kill()
        output = server.process.communicate()[0].decode(errors="replace")
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        raise RuntimeError(f"Dovecot did not start:\n{output}\n{log}") from None
    return server


class SMTPInbox:
    """aiosmtpd's handler: keeps every message, and delivers to Dovecot users it knows."""

    def __init__(self, dovecot: Dovecot | None = None, domain: str = "") -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.dovecot, self.domain = dovecot, domain
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.refuse:
            return "451 4.3.0 Try again later"
        raw = envelope.original_content or envelope.content
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), raw))
        if self.dovecot is not None:
            for rcpt in envelope.rcpt_tos:
                local, _at, domain = rcpt.partition("@")
                if domain == self.domain and local in self.dovecot.users:
                    self.dovecot.deliver(local, raw)
        return "250 OK"


def start_smtp(handler: SMTPInbox):
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller
