"""Done when: a script written for Zammad, with only its base URL and token changed, runs
against the demo (``helpdesk_demo`` data, the demo's URLs, the API key it prints) from
start to end."""

import io
import re

import pytest
from django.core.management import call_command
from zammad_py import ZammadAPI

from helpdesk.models import Ticket

from .test_real_clients import _default_statuses  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_zammad_script_runs_against_the_demo(live_server, sessions):
    out = io.StringIO()
    call_command("helpdesk_demo", "--tickets", "30", force=True, stdout=out)
    key = re.search(r"API key:\s+(\S+)", out.getvalue()).group(1)

    # --- the script: only the URL and the token are the demo's ----------------------
    client = ZammadAPI(url=f"{live_server.url}/api/v1/", http_token=key)
    sessions(client)
    me = client.user.me()
    assert me["login"]
    open_state = next(s["id"] for s in client.ticket_state.all() if s["name"] == "open")
    high = next(p["id"] for p in client.ticket_priority.all() if p["name"] == "3 high")

    seen = []
    page = client.ticket.all(filters={"per_page": 25})
    while True:
        seen += [t["id"] for t in page]
        if page.is_last_page():
            break
        page = page.next_page()
    assert len(seen) == len(set(seen)) == Ticket.objects.count() == 30

    found = {t["id"] for t in client.ticket.search("password", filters={"per_page": 200})}
    titled = set(Ticket.objects.filter(subject__icontains="password").values_list("pk", flat=True))
    assert titled and titled <= found

    ticket = client.ticket.create(params={
        "title": "Help me!", "group": "Users", "customer_id": "guess:new.customer@acme.example",
        "article": {"subject": "My subject", "body": "I am a message!", "type": "note", "internal": False},
    })
    ticket = client.ticket.update(ticket["id"], {
        "group": "Sales", "state_id": open_state, "priority_id": high,
        "article": {"subject": "Update via API", "body": "Here's my reason", "internal": True},
    })
    assert (ticket["state_id"], ticket["priority_id"], ticket["article_count"]) == (open_state, high, 2)
    client.ticket_tag.add(ticket["id"], "api")
    assert client.ticket.tags(ticket["id"])["tags"] == ["api"]
    assert [a["internal"] for a in client.ticket.articles(ticket["id"])] == [False, True]
    assert client.ticket.update(ticket["id"], {"state": "closed"})["close_at"]
    client.ticket.destroy(ticket["id"])
    assert not Ticket.objects.filter(pk=ticket["id"]).exists()
