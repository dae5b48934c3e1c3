"""One base for the one-shot actions (sign, open, publish, grant, retry): a POST that changes
something, then a message and a redirect. Each action says only what differs: what it checks
(`check`), its form (`form_class`), the service it calls (`perform`), what it says when done
(`success_message`) and where it goes (`success_url` or `back_url`).

A refusal is one thing everywhere: the service raises `ValidationError`, nothing the action did is
kept, and the person is sent back (`back_url`) with the refusal as a message; an action whose page
shows it again instead overrides `refused`. An invalid form is the page again with its errors, 400
(`render_again`); an action posted from a button with no field to show an error by says why in
`invalid_message` and is refused with it."""

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.views import View


class ActionView(View):
    """A POST action (a GET is a 405 unless `http_method_names` says otherwise: then it is the
    page of the action's form, `render_again` with status 200). Permissions and
    the objects acted on come from `check`, which raises 403 or 404 as the action's page did."""

    http_method_names = ["post"]  # as require_POST: OPTIONS too is a 405
    form_class = None
    success_message = ""  # formatted with `message_values(result)`
    success_url = None
    invalid_message = ""  # set: an invalid form is refused with this message, not shown again

    def post(self, request, *args, **kwargs):
        self.check(request)
        form = self.get_form()
        if form is not None and not self.is_valid(form):
            return self.form_invalid(form)
        try:
            with transaction.atomic():  # a refusal keeps nothing the action wrote
                result = self.perform(form)
        except ValidationError as exc:
            return self.refused(form, exc)
        return self.succeeded(result)

    def get(self, request, *args, **kwargs):
        """The action's own page with its empty form, for an action that has one (its
        `http_method_names` add "get")."""
        self.check(request)
        return self.render_again(self.get_form(), status=200)

    def check(self, request) -> None:
        """Find what is acted on and ask the permission question; raise Http404 or PermissionDenied."""

    def get_form(self):
        return None if self.form_class is None else self.form_class(**self.get_form_kwargs())

    def get_form_kwargs(self) -> dict:
        return {"data": self.request.POST} if self.request.method == "POST" else {}

    def is_valid(self, form) -> bool:
        """Whether the form may be acted on (an action confirmed on a review page also asks that)."""
        return form.is_valid()

    def perform(self, form):
        """Call the service; its answer goes to `success_message` and `get_success_url`."""
        raise NotImplementedError

    def succeeded(self, result):
        if text := self.get_success_message(result):
            messages.success(self.request, text)
        return redirect(self.get_success_url(result))

    def get_success_message(self, result) -> str:
        values = self.message_values(result)
        return self.success_message % values if values else str(self.success_message)

    def message_values(self, result) -> dict:
        return {}

    def get_success_url(self, result) -> str:
        return self.back_url() if self.success_url is None else str(self.success_url)

    def back_url(self) -> str:
        """Where a refused action goes back to (and, unless said otherwise, a successful one)."""
        if self.success_url is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs success_url or back_url().")
        return str(self.success_url)

    def refused(self, form, exc: ValidationError):
        messages.error(self.request, " ".join(exc.messages))
        return redirect(self.back_url())

    def form_invalid(self, form):
        if self.invalid_message:
            return self.refused(form, ValidationError(self.invalid_message))
        return self.render_again(form, status=400)

    def render_again(self, form, status: int):
        """The action's page again with the form as typed and what is wrong with it."""
        raise ImproperlyConfigured(f"{type(self).__name__} needs render_again() or invalid_message.")
