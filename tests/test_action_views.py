"""The base of every one-shot action (coalition/actions.py): what a person sees when an action
succeeds, is refused or gets an invalid form, and that a GET or a forged POST does nothing."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

from coalition import urls as site_urls
from coalition.actions import ActionView
from coalition.models import Organisation

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)


class AddOrganisation(ActionView):
    """Adds an organisation; the name "Refused" is saved, then refused, as a service might."""

    form_class = NameForm
    success_message = "%(name)s is added."
    success_url = "/done/"

    def check(self, request):
        if request.POST.get("forbidden"):
            raise PermissionDenied

    def perform(self, form):
        organisation = Organisation.objects.create(name=form.cleaned_data["name"], slug="added")
        if organisation.name == "Refused":
            raise ValidationError("Not this one.")
        return organisation

    def message_values(self, result):
        return {"name": result.name}

    def back_url(self):
        return "/back/"

    def render_again(self, form, status):
        return HttpResponse(f"errors: {form.errors.as_text()}", status=status)


class Ping(ActionView):
    """No form: a button, with the message it shows when the button's hidden field is missing."""

    form_class = NameForm
    success_message = "Done."
    success_url = "/back/"
    invalid_message = "Press the button on the page."

    def perform(self, form):
        return None


class AddOrganisationPage(AddOrganisation):
    """The same action with a page of its own for its form."""

    http_method_names = ["get", "head", "post", "options"]


# The site's own pages too: the 403 page links to them.
urlpatterns = [path("add/", AddOrganisation.as_view(), name="add"), path("ping/", Ping.as_view(), name="ping"),
               path("page/", AddOrganisationPage.as_view(), name="page"),
               *site_urls.urlpatterns]
handler403 = site_urls.handler403


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_success_saves_says_so_with_the_result_and_goes_on(client):
    response = client.post(reverse("add"), {"name": "Vilni Liudy"})

    assert response.status_code == 302 and response["Location"] == "/done/"
    assert said(response) == ["Vilni Liudy is added."]
    assert Organisation.objects.filter(name="Vilni Liudy").exists()


def test_refusal_goes_back_with_the_reason_and_keeps_nothing_the_action_wrote(client):
    response = client.post(reverse("add"), {"name": "Refused"})

    assert response.status_code == 302 and response["Location"] == "/back/"
    assert said(response) == ["Not this one."]
    assert not Organisation.objects.exists()


def test_invalid_form_is_the_page_again_with_its_errors_and_nothing_done(client):
    response = client.post(reverse("add"), {"name": "x" * 21})

    assert response.status_code == 400
    assert "at most 20 characters" in response.content.decode()
    assert said(response) == [] and not Organisation.objects.exists()


def test_invalid_form_of_a_button_is_refused_with_its_message(client):
    response = client.post(reverse("ping"), {})

    assert response.status_code == 302 and response["Location"] == "/back/"
    assert said(response) == ["Press the button on the page."]


def test_check_refuses_before_anything_is_done(client):
    response = client.post(reverse("add"), {"name": "Vilni Liudy", "forbidden": "1"})

    assert response.status_code == 403
    assert not Organisation.objects.exists()


def test_get_is_not_allowed_and_does_nothing(client):
    response = client.get(reverse("add"), {"name": "Vilni Liudy"})

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not Organisation.objects.exists()


def test_post_without_the_form_token_is_refused():
    response = Client(enforce_csrf_checks=True).post(reverse("add"), {"name": "Vilni Liudy"})

    assert response.status_code == 403
    assert not Organisation.objects.exists()


def test_an_action_with_a_page_shows_its_empty_form_on_get_and_does_nothing(client):
    response = client.get(reverse("page"), {"name": "x" * 21})

    assert response.status_code == 200 and response.content.decode() == "errors: "
    assert not Organisation.objects.exists()
