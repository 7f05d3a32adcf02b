"""``services.requester_for_email``: the person behind an address, for the dialects and mail."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from helpdesk import services
from helpdesk.models import Client, ClientDomain, Contact

from . import factories

pytestmark = pytest.mark.django_db


def test_an_unknown_address_creates_a_user_without_a_usable_password_and_a_client_for_its_domain():
    user, client = services.requester_for_email(email="Jane.Doe@Initech.example", name="Jane Doe")
    assert user.username == "Jane.Doe@Initech.example"
    assert (user.first_name, user.last_name) == ("Jane", "Doe")
    assert not user.has_usable_password()
    assert client.name == "initech.example"
    assert ClientDomain.objects.get(domain="initech.example").client == client
    assert Contact.objects.get(user=user).client == client


def test_a_known_address_is_found_case_insensitively_with_its_contact_client():
    contact = factories.ContactFactory(user__email="pat@acme.example")
    users_before = get_user_model().objects.count()
    user, client = services.requester_for_email(email="PAT@ACME.EXAMPLE")
    assert (user, client) == (contact.user, contact.client)
    assert get_user_model().objects.count() == users_before


def test_the_domain_of_a_known_client_links_a_new_person_to_it():
    domain = factories.ClientDomainFactory(domain="globex.example")
    user, client = services.requester_for_email(email="hank@globex.example")
    assert client == domain.client
    assert Contact.objects.get(user=user).client == domain.client


def test_a_free_mail_address_creates_no_client():
    user, client = services.requester_for_email(email="someone@gmail.com")
    assert client is None
    assert not Client.objects.exists()
    assert not Contact.objects.filter(user=user).exists()


def test_an_explicit_client_is_used_when_the_person_has_none():
    acme = factories.ClientFactory()
    user, client = services.requester_for_email(email="new@gmail.com", client=acme)
    assert client == acme
    assert Contact.objects.get(user=user).client == acme


def test_create_client_false_never_creates_one():
    _user, client = services.requester_for_email(email="x@umbrella.example", create_client=False)
    assert client is None
    assert not Client.objects.exists()


def test_staff_are_never_made_contacts():
    agent = factories.AgentFactory(email="agent@acme.example")
    factories.ClientDomainFactory(domain="acme.example")
    user, _client = services.requester_for_email(email="agent@acme.example")
    assert user == agent
    assert not Contact.objects.filter(user=agent).exists()


@pytest.mark.parametrize("email", ["", "not-an-address", "a@", None, 42, "x" * 300 + "@example.com"])
def test_an_invalid_address_is_refused_and_nothing_is_written(email):
    with pytest.raises(ValidationError) as exc:
        services.requester_for_email(email=email)
    assert "email" in exc.value.message_dict
    assert not get_user_model().objects.exists()
    assert not Client.objects.exists()
