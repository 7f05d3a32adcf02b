"""``HelpdeskFilterSet``: the FilterSets share a form class and copy their filters shallowly
(for CPU), and still behave as django-filter's: per-request errors, the request's
language, method filters bound to their own FilterSet, request-dependent filters."""

import copy

import django_filters
import pytest
from django.http import QueryDict
from django.utils import translation

from helpdesk.api.filters import HelpdeskFilterSet, ProjectFilterSet, TicketFilterSet
from helpdesk.dialects.planhat.filters import PlanhatTicketFilterSet
from helpdesk.dialects.spp.filters import SPPTicketFilterSet
from helpdesk.models import Department, Ticket
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_english():
    # LocaleMiddleware leaves the request's language active for the thread.
    yield
    translation.activate("en-us")


def errors(response):
    assert response.status_code == 422, response.content
    return response.json()["error"]["fields"]


def test_errors_and_values_stay_with_their_request(api, department, client_org):
    mine = factories.TicketFactory(department=department, client=client_org)
    factories.TicketFactory(department=department)
    both = errors(api.get("/api/tickets", {"client_id": "x", "active_state": "gone"}))
    assert set(both) == {"client_id", "active_state"}
    assert [t["id"] for t in api.get("/api/tickets", {"client_id": client_org.pk}).json()["data"]] == [mine.pk]
    assert set(errors(api.get("/api/tickets", {"priority": "asap"}))) == {"priority"}
    assert len(api.get("/api/tickets").json()["data"]) == 2


def test_each_filterset_has_its_own_form_and_fields():
    bad = TicketFilterSet(QueryDict("client_id=x"))
    good = TicketFilterSet(QueryDict("client_id=7"))
    assert not bad.is_valid() and good.is_valid()
    assert set(bad.errors) == {"client_id"} and good.errors == {}
    assert good.form.cleaned_data["client_id"] == [7]
    bad.form.fields["client_id"].widget.attrs["class"] = "mine"
    bad.form.fields["sort"].choices = [("x", "x")]
    fresh = TicketFilterSet(QueryDict("sort=ticket_priority"))
    assert fresh.is_valid(), fresh.errors
    assert "class" not in fresh.form.fields["client_id"].widget.attrs
    assert fresh.form.fields["client_id"] is not good.form.fields["client_id"]


@pytest.mark.parametrize("lang, words", [
    ("de", ["Gib ganze Zahlen durch Kommas getrennt ein.", "Bitte eine gültige Auswahl treffen."]),
    ("fr", ["Saisissez des nombres entiers séparés par des virgules.", "Sélectionnez un choix valide."]),
])
def test_errors_come_in_the_language_of_each_request(api, lang, words):
    query = {"client_id": "x", "active_state": "gone"}
    english = str(errors(api.get("/api/tickets", query)))
    assert "Enter whole numbers separated by commas." in english
    translated = str(errors(api.get("/api/tickets", query, HTTP_ACCEPT_LANGUAGE=lang)))
    assert all(word in translated for word in words), translated
    assert "Enter whole numbers" in str(errors(api.get("/api/tickets", query, HTTP_ACCEPT_LANGUAGE="en")))


def test_labels_are_those_of_the_active_language():
    # django-filter translates a label when it builds the field: the shared form class
    # is per language, or the first request's language would stay for everyone.
    with translation.override("en"):
        assert TicketFilterSet(QueryDict()).form["updated_since"].label == "Last updated is greater than or equal to"
    with translation.override("de"):
        assert TicketFilterSet(QueryDict()).form["updated_since"].label == "Zuletzt aktualisiert ist größer oder gleich"
    with translation.override("en"):
        assert TicketFilterSet(QueryDict()).form["category_id"].label == "Department is in"


def test_method_filters_call_their_own_filtersets_method(agent, contact):
    # filter_search reads self.request: each FilterSet's method filters must be bound to it.
    ticket = factories.TicketFactory(client=contact.client)
    one, two = (TicketFilterSet(QueryDict(), request=type("Request", (), {"user": user})())
                for user in (agent, contact.user))
    for filterset in (one, two):
        for name in ("status", "search", "tags", "sort"):
            method = filterset.filters[name].filter.method
            assert method.__self__ is filterset and method.__name__ == TicketFilterSet.base_filters[name].method
    assert not hasattr(TicketFilterSet.base_filters["search"], "parent")
    assert list(TicketFilterSet(QueryDict(f"status=open&client_id={ticket.client_id}")).qs) == [ticket]
    assert list(TicketFilterSet(QueryDict(f"status=closed&client_id={ticket.client_id}")).qs) == []


def test_a_subclass_has_its_own_form_class():
    class WithSubject(TicketFilterSet):
        subject = django_filters.CharFilter(lookup_expr="icontains")

    assert "subject" not in TicketFilterSet(QueryDict()).form.fields
    assert "subject" in WithSubject(QueryDict()).form.fields
    assert "subject" not in TicketFilterSet(QueryDict()).form.fields
    assert WithSubject(QueryDict("subject=x")).form.is_valid()


def test_the_form_class_is_built_once_per_class_and_language():
    # The point of HelpdeskFilterSet; would someone drop it from a FilterSet, this says so.
    for cls in (TicketFilterSet, ProjectFilterSet, PlanhatTicketFilterSet, SPPTicketFilterSet):
        english = cls(QueryDict()).get_form_class()
        assert cls(QueryDict("x=1")).get_form_class() is english
        with translation.override("de"):
            german = cls(QueryDict()).get_form_class()
        assert german is not english and cls(QueryDict()).get_form_class() is english


def test_no_filter_is_deep_copied(monkeypatch):
    def refuse(self, memo):
        raise AssertionError("a filter was deep-copied")

    monkeypatch.setattr(django_filters.filters.Filter, "__deepcopy__", refuse, raising=False)
    filterset = TicketFilterSet(QueryDict("status=open&tags=a"))
    assert filterset.is_valid(), filterset.errors
    with pytest.raises(AssertionError):  # the patch does bite
        copy.deepcopy(TicketFilterSet.base_filters)


def test_request_dependent_filters_still_get_their_request(department):
    # A ModelChoiceFilter's queryset may be a function of the request: such a FilterSet
    # builds its form each time, and the filters the class declares are left alone.
    other = factories.DepartmentFactory(name="Billing")

    class ByDepartment(HelpdeskFilterSet):
        department = django_filters.ModelChoiceFilter(
            queryset=lambda request: Department.objects.filter(name=request.name))

        class Meta:
            model = Ticket
            fields: list[str] = []

    def request(name):
        return type("R", (), {"name": name})()

    sales = ByDepartment(QueryDict(f"department={other.pk}"), request=request("Sales"))
    billing = ByDepartment(QueryDict(f"department={other.pk}"), request=request("Billing"))
    assert not sales.is_valid() and billing.is_valid()
    assert callable(ByDepartment.base_filters["department"].extra["queryset"])  # not a request's QuerySet
    assert sales.form.fields["department"].queryset.get() == department


def test_init_sets_what_django_filters_does():
    # HelpdeskFilterSet.__init__ is django-filter's with a cheaper copy: a django-filter
    # that set more would show here.
    class Plain(django_filters.FilterSet):
        class Meta:
            model = Ticket
            fields: list[str] = []

    class Ours(HelpdeskFilterSet):
        class Meta:
            model = Ticket
            fields: list[str] = []

    for cls in (Plain, Ours):
        cls.base_filters["status"] = copy.deepcopy(TicketFilterSet.base_filters["status"])
    data, queryset = QueryDict("status=open"), Ticket.objects.all()
    plain, ours = Plain(data, queryset, request="r"), Ours(data, queryset, request="r")
    assert vars(plain).keys() == vars(ours).keys()
    assert {k: v for k, v in vars(plain).items() if k != "filters"} == {
        k: v for k, v in vars(ours).items() if k != "filters"}
    assert vars(plain.filters["status"]).keys() == vars(ours.filters["status"]).keys()
