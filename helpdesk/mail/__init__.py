"""Mail in and out: ``parse`` (RFC 5322 → a ``ParsedMail``), ``ingest`` (a parsed mail →
a ticket or a reply, through the services), ``outbound`` (the mails we send, as tasks
after commit), ``fetch`` (IMAP and POP3 mailboxes) and ``anymail`` (providers' inbound
webhooks)."""
