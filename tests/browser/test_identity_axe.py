"""axe-core finds no violations on the coordinators' logo and colour page (also after a refused
colour, its message in the form) and on a statement page in the coalition's accent, at 1280 and
390 px, in English and Ukrainian."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coalition import look, services
from coalition.models import User
from tests import factories
from tests.browser.axe import axe
from tests.browser.conftest import sign_in
from tests.factories import make_statement
from tests.helpers import LOGO

pytestmark = pytest.mark.django_db(transaction=True)


def no_violations(page, steps, name: str) -> None:
    steps.shot(page, name)
    results = axe().run(page)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


@pytest.mark.parametrize("language", ["en", "uk"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_look_page_and_a_statement_in_the_accent_have_no_axe_violations(
        new_page, steps, live_server, coalition, coordinator, settings, tmp_path, width, language):
    settings.MEDIA_ROOT = str(tmp_path)
    services.set_look(coalition, by=coordinator, accent="#7a1f3d", logo=look.clean_logo(SimpleUploadedFile("l.svg", LOGO)))
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="In colour")
    User.objects.filter(pk=coordinator.pk).update(language="en")
    page = new_page(width, 900)
    sign_in(page, coordinator.email, factories.PASSWORD)
    User.objects.filter(pk=coordinator.pk).update(language=language)
    page.goto(f"{live_server.url}/coalitions/{coalition.slug}/look/")
    no_violations(page, steps, f"look-{language}-{width}")
    page.fill("input[name=accent]", "#ffcc00")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".errorlist").count()
    no_violations(page, steps, f"look-refused-{language}-{width}")
    page.goto(f"{live_server.url}{statement.get_absolute_url()}")
    assert page.locator(f"img[src='{coalition.logo_url()}']").count() == 1
    no_violations(page, steps, f"statement-accent-{language}-{width}")
