"""Custom field values: coercion per type, required and unknown keys, partial updates."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from helpdesk.custom_fields import clean_custom_fields, enabled_fields
from helpdesk.models import CustomField

from . import factories

pytestmark = pytest.mark.django_db
T = CustomField.Type


def field(type, **kwargs):
    return factories.CustomFieldFactory(key="f", type=type, **kwargs)


@pytest.mark.parametrize("type,value,stored", [
    (T.TEXT, "A-1001", "A-1001"),
    (T.TEXT, 42, "42"),
    (T.TEXTAREA, "long\ntext", "long\ntext"),
    (T.INTEGER, "42", 42),
    (T.INTEGER, 7, 7),
    (T.INTEGER, "3.0", 3),
    (T.INTEGER, " -5 ", -5),
    (T.DECIMAL, "12.50", "12.50"),
    (T.DECIMAL, 1.5, "1.5"),
    (T.BOOLEAN, True, True),
    (T.BOOLEAN, "yes", True),
    (T.BOOLEAN, "0", False),
    (T.BOOLEAN, "Off", False),
    (T.DATE, "2025-01-31", "2025-01-31"),
    (T.DATE, datetime.date(2025, 1, 31), "2025-01-31"),
    (T.DATE, datetime.datetime(2025, 1, 31, 10, 0), "2025-01-31"),
])
def test_values_are_coerced_to_json(type, value, stored):
    field(type)
    assert clean_custom_fields({"f": value}) == {"f": stored}


def test_choice_field():
    field(T.CHOICE, choices=["small", "large"])
    assert clean_custom_fields({"f": "large"}) == {"f": "large"}
    with pytest.raises(ValidationError, match="small, large"):
        clean_custom_fields({"f": "medium"})


@pytest.mark.parametrize("type,value", [
    (T.TEXT, "x" * 256), (T.TEXT, ["a"]), (T.TEXT, {"a": 1}), (T.TEXT, True),
    (T.INTEGER, "abc"), (T.INTEGER, "1.5"), (T.INTEGER, True), (T.INTEGER, "Infinity"), (T.INTEGER, "NaN"),
    (T.INTEGER, "sNaN"), (T.INTEGER, "1e999999999"), (T.INTEGER, 2**64),
    (T.DECIMAL, "abc"), (T.DECIMAL, "inf"), (T.DECIMAL, "NaN"), (T.DECIMAL, False),
    (T.BOOLEAN, "maybe"), (T.BOOLEAN, 2),
    (T.DATE, "31/01/2025"), (T.DATE, "2025-02-30"), (T.DATE, 20250131),
    (T.CHOICE, 1),
])
def test_invalid_values_are_reported_by_key(type, value):
    field(type, choices=["a"] if type == T.CHOICE else [])
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields({"f": value})
    assert list(exc.value.message_dict) == ["f"]


def test_required_field_missing_on_create():
    factories.CustomFieldFactory(key="order", required=True)
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields({})
    assert exc.value.message_dict == {"order": ["This field is required."]}
    with pytest.raises(ValidationError):
        clean_custom_fields({"order": ""})


def test_partial_update_need_not_repeat_required_fields():
    factories.CustomFieldFactory(key="order", required=True)
    factories.CustomFieldFactory(key="note")
    assert clean_custom_fields({"note": "x"}, existing={"order": "A"}, partial=True) == {"order": "A", "note": "x"}


def test_blank_removes_an_optional_key_but_not_a_required_one():
    factories.CustomFieldFactory(key="order", required=True)
    factories.CustomFieldFactory(key="note")
    assert clean_custom_fields({"note": None}, existing={"order": "A", "note": "x"}, partial=True) == {"order": "A"}
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields({"order": None}, existing={"order": "A"}, partial=True)
    assert "order" in exc.value.message_dict


def test_unknown_and_disabled_keys_are_errors():
    factories.CustomFieldFactory(key="old", enabled=False)
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields({"old": "x", "nope": "y"})
    assert set(exc.value.message_dict) == {"old", "nope"}


def test_disabled_required_fields_are_not_enforced():
    factories.CustomFieldFactory(key="old", enabled=False, required=True)
    assert clean_custom_fields({}) == {}
    assert list(enabled_fields()) == []


def test_existing_values_of_disabled_fields_are_kept():
    factories.CustomFieldFactory(key="old", enabled=False)
    factories.CustomFieldFactory(key="note")
    assert clean_custom_fields({"note": "n"}, existing={"old": "x"}, partial=True) == {"old": "x", "note": "n"}


@pytest.mark.parametrize("value", [["a", "b"], "text", 5])
def test_values_must_be_an_object(value):
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields(value)
    assert "custom_fields" in exc.value.message_dict


def test_every_error_at_once():
    factories.CustomFieldFactory(key="n", type=T.INTEGER)
    factories.CustomFieldFactory(key="r", required=True)
    with pytest.raises(ValidationError) as exc:
        clean_custom_fields({"n": "x", "zzz": 1})
    assert set(exc.value.message_dict) == {"n", "r", "zzz"}


@pytest.mark.parametrize("key", ["status", "search", "ticket_subject", "ticketreply_text", "id"])
def test_reserved_keys_are_rejected(key):
    with pytest.raises(ValidationError) as exc:
        CustomField(key=key, label="x").full_clean()
    assert "key" in exc.value.message_dict


@pytest.mark.parametrize("choices", [[], "a,b", [1, 2], None])
def test_choice_field_needs_a_list_of_strings(choices):
    with pytest.raises(ValidationError) as exc:
        CustomField(key="size", label="Size", type=T.CHOICE, choices=choices).clean()
    assert "choices" in exc.value.message_dict
