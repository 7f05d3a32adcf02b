"""The agents' workplace: one form on the ticket page (no lost edits), the working views,
one date format, names in the agent picker, and the page's heading."""

import re

from django.urls import reverse

from helpdesk import services
from helpdesk.models import ReplyType, StatusChange, TicketStatus
from tests import factories
from tests.admin.test_ticket_page import change_url, form_data, messages_of

URL = reverse("admin:helpdesk_ticket_changelist")


def rows(response):
    return [obj.pk for obj in response.context["cl"].result_list]


# -- one form: the reply box saves the details, "Save" posts the reply -------------------

def test_send_reply_saves_the_edited_subject_too(su_client, superuser, make_ticket):
    ticket = make_ticket()
    data = form_data(ticket, subject="Cannot log in with SSO", reply_text="We are on it.", reply_type="reply", _reply="1")
    response = su_client.post(change_url(ticket), data)
    reply = ticket.replies.get()
    assert response.status_code == 302
    assert response["Location"] == f"{change_url(ticket)}#reply-{reply.pk}"
    ticket.refresh_from_db()
    assert ticket.subject == "Cannot log in with SSO"  # not thrown away
    assert (reply.text, reply.type, reply.author) == ("We are on it.", ReplyType.REPLY, superuser)
    assert messages_of(su_client.get(change_url(ticket))) == ["Reply posted."]


def test_save_with_a_reply_written_posts_it(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.post(change_url(ticket), form_data(ticket, reply_text="Half-written answer", _save="1"))
    assert response.status_code == 302
    assert ticket.replies.get().text == "Half-written answer"


def test_send_without_text_refuses_and_saves_nothing(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.post(change_url(ticket), form_data(ticket, subject="Edited", reply_text="  ", _reply="1"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Write a message before sending; nothing was saved." in html
    assert 'value="Edited"' in html  # the edit is still on the page, to send again
    ticket.refresh_from_db()
    assert ticket.subject == "Cannot log in" and not ticket.replies.exists()


def test_note_with_a_status_from_the_reply_box(su_client, superuser, make_ticket):
    ticket = make_ticket()
    data = form_data(ticket, status=TicketStatus.ON_HOLD, reply_text="Waiting for the vendor.", reply_type="note", _reply="1")
    assert su_client.post(change_url(ticket), data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_id == TicketStatus.ON_HOLD and ticket.notes_count == 1
    assert StatusChange.objects.filter(ticket=ticket, to_status_id=TicketStatus.ON_HOLD, changed_by=superuser).exists()


def test_reply_box_error_keeps_the_typed_reply(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.post(change_url(ticket), form_data(ticket, subject="", reply_text="Keep me", _reply="1"))
    assert response.status_code == 200
    assert ">Keep me</textarea>" in response.content.decode()
    assert not ticket.replies.exists()


# -- the page ---------------------------------------------------------------------------

def test_page_is_headed_by_the_ticket_not_change_ticket(su_client, make_ticket):
    ticket = make_ticket(subject="Printer on fire")
    html = su_client.get(change_url(ticket)).content.decode()
    assert f"<h1>#{ticket.pk} Printer on fire</h1>" in html
    assert "Change ticket" not in html


def test_status_in_one_place_and_the_original_message_read_only(su_client, make_ticket):
    ticket = make_ticket()
    response = su_client.get(change_url(ticket))
    html = response.content.decode()
    assert html.count('name="status"') == 1
    assert html.index('name="status"') < html.index('name="_reply"')  # beside the Send button
    assert 'name="message"' not in html  # the opening message is shown, not editable
    assert "The login page shows an error." in html
    assert "message" not in response.context["adminform"].form.fields


def test_dates_share_one_format(su_client, superuser, make_ticket):
    ticket = make_ticket()
    services.reply_post(ticket=ticket, author=superuser, text="hello", silent=True)
    html = su_client.get(change_url(ticket)).content.decode()
    shown = set(re.findall(r"<time[^>]*>([^<]+)</time>", html))
    assert shown and all(re.fullmatch(r"[A-Z][a-z]{2}\.? \d{1,2}, \d{4} \d{2}:\d{2}", text) for text in shown), shown


def test_assignee_picker_shows_agent_names(su_client, make_ticket):
    factories.AgentFactory(username="pshah", first_name="Priya", last_name="Shah")
    factories.UserFactory(username="customer-jo", first_name="Jo", last_name="Customer")
    ticket = make_ticket()
    html = su_client.get(change_url(ticket)).content.decode()
    assignees = " ".join(re.findall(r'name="assignees"[^>]*>\s*([^<]+)</label>', html))
    assert "Priya Shah" in assignees and "pshah" not in assignees
    assert "Jo Customer" not in assignees


# -- the list ---------------------------------------------------------------------------

def test_default_view_is_not_closed_tickets(su_client, make_ticket):
    open_one = make_ticket(subject="open")
    closed = make_ticket(subject="closed")
    services.ticket_change_status(ticket=closed, status=TicketStatus.objects.get(pk=TicketStatus.CLOSED))
    assert rows(su_client.get(URL)) == [open_one.pk]
    assert rows(su_client.get(URL, {"view": "closed"})) == [closed.pk]
    assert set(rows(su_client.get(URL, {"view": "all"}))) == {open_one.pk, closed.pk}
    # A status picked in the status filter is shown whatever the view.
    assert rows(su_client.get(URL, {"status__id__exact": TicketStatus.CLOSED})) == [closed.pk]


def test_working_views(su_client, superuser, make_ticket):
    colleague = factories.AgentFactory()
    mine = make_ticket(assignees=[superuser])
    theirs = make_ticket(assignees=[colleague])
    nobody = make_ticket()
    waiting = make_ticket()
    services.ticket_change_status(ticket=waiting, status=TicketStatus.objects.get(pk=TicketStatus.ANSWERED))
    mine_closed = make_ticket(assignees=[superuser])
    services.ticket_change_status(ticket=mine_closed, status=TicketStatus.objects.get(pk=TicketStatus.CLOSED))
    assert rows(su_client.get(URL, {"view": "mine"})) == [mine.pk]
    assert set(rows(su_client.get(URL, {"view": "unassigned"}))) == {nobody.pk, waiting.pk}
    assert rows(su_client.get(URL, {"view": "waiting"})) == [waiting.pk]
    assert set(rows(su_client.get(URL, {"view": "open"}))) == {mine.pk, theirs.pk, nobody.pk, waiting.pk}


def test_views_are_tabs_one_click_away(su_client, make_ticket):
    make_ticket()
    html = su_client.get(URL, {"view": "mine"}).content.decode()
    nav = html[html.index('class="hd-views"'):]
    nav = nav[: nav.index("</nav>")]
    for label in ("My open", "Unassigned", "All open", "Waiting on customer"):
        assert f">{label}</a>" in nav
    assert re.search(r'data-view="mine" aria-current="page"', nav)


def test_no_stray_sort_priority_marker(su_client, make_ticket):
    make_ticket()
    html = su_client.get(URL).content.decode()
    assert "sortpriority" not in html
    assert "Change ticket" not in html


def test_list_keeps_client_department_and_requester_under_the_subject(su_client, make_ticket):
    requester = factories.UserFactory(email="max@customer.example")
    make_ticket(subject="Printer on fire", requester=requester)
    html = su_client.get(URL).content.decode()
    assert '<span class="hd-subject">Printer on fire</span><span class="hd-row-meta">Acme Inc · Support · max@customer.example</span>' in html


# -- SLA in the list and on the page -------------------------------------------------------

def test_sla_shown_in_list_and_page_and_the_breaching_view(su_client, make_ticket):
    import datetime

    from django.utils import timezone

    factories.SLAPolicyFactory(first_response_minutes=120, resolution_minutes=None)
    late = make_ticket(subject="late")
    on_time = make_ticket(subject="on time")
    type(late).objects.filter(pk=late.pk).update(first_response_due_at=timezone.now() - datetime.timedelta(hours=3, minutes=5))
    html = su_client.get(URL).content.decode()
    assert "breached 3 h ago" in html and "due in 1 h" in html
    assert rows(su_client.get(URL, {"view": "breaching"})) == [late.pk]
    assert rows(su_client.get(URL, {"sla": "breached"})) == [late.pk]
    assert rows(su_client.get(URL, {"sla": "soon"})) == [on_time.pk]
    page = su_client.get(change_url(on_time)).content.decode()
    assert "First response: due in 1 h" in page


def test_sla_paused_filter_and_text(su_client, make_ticket):
    factories.SLAPolicyFactory(first_response_minutes=None, resolution_minutes=600)
    ticket = make_ticket()
    services.ticket_change_status(ticket=ticket, status=TicketStatus.objects.get(pk=TicketStatus.ANSWERED))
    assert rows(su_client.get(URL, {"sla": "paused"})) == [ticket.pk]
    assert "SLA paused" in su_client.get(URL, {"view": "waiting"}).content.decode()
    assert "Resolution: paused (waiting on customer)" in su_client.get(change_url(ticket)).content.decode()


# -- CSV export ------------------------------------------------------------------------------

def test_export_csv_of_the_list_view_in_hand(su_client, superuser, make_ticket):
    import csv
    import io

    mine = make_ticket(subject="=HYPERLINK(evil)", assignees=[superuser], tags=["vip"])
    make_ticket(subject="someone else's")
    html = su_client.get(URL, {"view": "mine"}).content.decode()
    export = reverse("admin:helpdesk_ticket_export")
    assert f'href="{export}?view=mine"' in html
    response = su_client.get(export, {"view": "mine"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(body)))
    assert [row["id"] for row in table] == [str(mine.pk)]
    row = table[0]
    assert row["subject"] == "'=HYPERLINK(evil)"  # never run as a formula
    assert (row["status"], row["assignees"], row["tags"], row["sla"]) == ("Open", "Alex Morgan", "vip", "none")


def test_export_needs_view_permission(client, make_ticket):
    user = factories.StaffFactory()  # staff without the helpdesk's permissions
    client.force_login(user)
    assert client.get(reverse("admin:helpdesk_ticket_export")).status_code == 403


# -- the overview's additions --------------------------------------------------------------

def test_overview_shows_sla_compliance_workload_backlog_and_ranges(su_client, superuser, make_ticket):
    import datetime

    from django.utils import timezone

    from helpdesk.models import Ticket

    factories.SLAPolicyFactory(first_response_minutes=60, resolution_minutes=None)
    answered_in_time = make_ticket(assignees=[superuser])
    services.reply_post(ticket=answered_in_time, author=superuser, text="quick", silent=True)
    late = make_ticket(assignees=[superuser])
    Ticket.objects.filter(pk=late.pk).update(first_response_due_at=timezone.now() - datetime.timedelta(minutes=5))
    overview = reverse("admin:helpdesk_ticket_overview")
    response = su_client.get(overview, {"refresh": 1, "days": 7})
    html = response.content.decode()
    assert 'data-figure="first-response-sla">50 %<' in html
    assert 'data-figure="breaching">1<' in html
    workload = html[html.index('data-table="workload"'):]
    assert "Alex Morgan" in workload[: workload.index("</table>")]
    assert response.context["overview"].days == 7
    assert len(response.context["overview"].backlog) == 7 and response.context["overview"].backlog[-1] == 2
    assert 'href="?days=7" aria-current="page"' in html
    assert su_client.get(overview, {"days": "9999"}).context["overview"].days == 30  # only the offered ranges
