"""Every URL of one statement, signature, publication, comment or coalition refuses people who
may not use it, and a refused POST changes nothing.

Three kinds of people are tried on each: a coordinator of another coalition (enrolled in TOTP like
every coordinator); plain staff of a member organisation of the statement's own coalition, who
hold neither signing authority nor the coordinator's role; and someone whom another coalition
gave signing authority for that same member organisation (it belongs to both coalitions), who is
an outsider here and is answered exactly as the other coalition's coordinator is. The answers are
the ones the site uses everywhere:

- 404 for someone outside the coalition when the statement is not public (a draft, a statement
  open only to organisations, a closed one): its address does not reveal that it exists;
- 403 when the person may see the statement (a member, or anyone once it is public, or while it
  is open to individuals) but lacks the role, and on a coalition's own pages (the coalition is
  public; its invitations and outbox are not).
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from django.urls import reverse
from django.utils import timezone

from coalition.models import AuditEvent, CoalitionRole, Invitation, OrganisationRole, OutboundEmail
from statements.models import (
    Comment,
    Decline,
    InvitedPartner,
    Publication,
    Revision,
    Signature,
    Statement,
)

from .factories import (
    CoordinatorFactory,
    InvitationFactory,
    MembershipFactory,
    OrganisationFactory,
    OrganisationRoleFactory,
    make_statement,
)

pytestmark = pytest.mark.django_db

WATCHED = [Statement, Revision, Comment, Signature, Decline, InvitedPartner, Publication, OutboundEmail,
           Invitation, CoalitionRole, OrganisationRole, AuditEvent]


def snapshot() -> dict:
    """Every row that any of these URLs could change."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


@pytest.fixture
def world(coalition, member_org, coordinator, staff, signer):
    def statement(status, **extra):
        return make_statement(coalition, by=coordinator, status=status, title=f"A {status} statement", **extra)

    w = {
        "draft": statement("draft"),
        "open": statement("open"),  # organisations only: not public
        "open_to_individuals": statement("open", allows_individuals=True),  # public while open
        "closed": statement("closed", allows_individuals=True),
        "published": statement("published"),
        "member_org": member_org,
        "outside_org": OrganisationFactory(),
    }
    w["comment"] = Comment.objects.create(statement=w["draft"], revision=w["draft"].current_revision,
                                          author=staff, body="A remark.")
    w["open_comment"] = Comment.objects.create(statement=w["open"], revision=w["open"].current_revision,
                                               author=staff, body="A remark.")
    revision = w["open"].signed_revision
    w["org_signature"] = Signature.objects.create(
        statement=w["open"], revision=revision, sha256=revision.sha256, kind="organisation",
        organisation=member_org, signed_by=signer)
    for name in ("open_to_individuals", "closed"):
        revision = w[name].signed_revision
        w[f"individual_on_{name}"] = Signature.objects.create(
            statement=w[name], revision=revision, sha256=revision.sha256, kind="individual",
            name="A Person", email="person@example.net", confirmed_at=timezone.now())
    w["publication"] = Publication.objects.get(statement=w["published"], number=1)
    w["invitation"] = InvitationFactory(coalition=coalition, organisation=member_org)
    w["staff_role"], w["signer_role"] = (OrganisationRole.objects.get(user=person) for person in (staff, signer))
    w["failed_email"] = OutboundEmail.objects.create(
        kind="invitation", coalition=coalition, dedupe_key="failed-for-test", recipient="x@example.net",
        subject="Subject", body_text="Text", message_id="<failed-for-test@example.org>",
        attempts=8, failed_at=timezone.now(), last_error="550 no such user")
    return w


def slug_url(name, statement_key, *extra):
    return lambda w: reverse(name, args=[w[statement_key].slug, *extra])


def signature_url(name, signature_key):
    return lambda w: reverse(name, args=[w[signature_key].statement.slug, w[signature_key].pk])


def text_of(statement_key, **more):
    """A valid edit of the statement's current text."""
    def data(w):
        current = w[statement_key].current_revision
        return {"title": "Changed title", "summary": "", "body": "Changed text.", "note": "",
                "based_on": current.pk, "translation_of": current.pk, **more}
    return data


def sha_of(statement_key, **more):
    return lambda w: {"sha256": w[statement_key].signed_revision.sha256, **more}


@dataclass
class Row:
    id: str
    url: Callable
    method: str = "get"
    data: Callable = lambda w: {}
    statuses: dict = None  # who -> expected status

    def __post_init__(self):
        self.statuses = self.statuses or {}


def refused(outsider, staff):
    return {"other_coordinator": outsider, "staff": staff}


ROWS = [
    # The statement and its drafting
    Row("detail of a draft", slug_url("statement_detail", "draft"), statuses={"other_coordinator": 404}),
    Row("detail of a statement open to organisations", slug_url("statement_detail", "open"),
        statuses={"other_coordinator": 404}),
    Row("signatories of a statement open to organisations", slug_url("statement_signatories", "open"),
        statuses={"other_coordinator": 404}),
    Row("preview image of a draft", lambda w: reverse("statement_preview", args=[w["draft"].slug, "en"]),
        statuses=refused(404, 404)),
    Row("embed page of a statement open to organisations", slug_url("statement_embed", "open"),
        statuses=refused(404, 404)),
    Row("a coalition's embedding origins", lambda w: reverse("coalition_embedding", args=[w["draft"].coalition.slug]),
        statuses=refused(404, 404)),
    Row("setting a coalition's embedding origins",
        lambda w: reverse("coalition_embedding", args=[w["draft"].coalition.slug]), "post",
        lambda w: {"origins": "https://evil.example"}, statuses=refused(404, 404)),
    Row("a coalition's logo and colour", lambda w: reverse("coalition_look", args=[w["draft"].coalition.slug]),
        statuses=refused(403, 403)),
    Row("setting a coalition's logo and colour",
        lambda w: reverse("coalition_look", args=[w["draft"].coalition.slug]), "post",
        lambda w: {"accent": "#000000"}, statuses=refused(403, 403)),
    Row("edit page of a draft", slug_url("statement_edit", "draft"), statuses={"other_coordinator": 404}),
    Row("edit of a draft", slug_url("statement_edit", "draft"), "post", text_of("draft"),
        statuses={"other_coordinator": 404}),
    Row("edit page of an open text", slug_url("statement_edit", "open"), statuses=refused(404, 403)),
    Row("edit of an open text", slug_url("statement_edit", "open"), "post", text_of("open"),
        statuses=refused(404, 403)),
    Row("edit of a published text", slug_url("statement_edit", "published"), "post", text_of("published"),
        statuses=refused(404, 403)),
    Row("translation page of a draft", slug_url("statement_translate", "draft", "uk"),
        statuses={"other_coordinator": 404}),
    Row("translation of an open text", slug_url("statement_translate", "open", "uk"), "post",
        text_of("open", based_on=""), statuses=refused(404, 403)),
    Row("revisions of a draft", slug_url("statement_history", "draft"), statuses={"other_coordinator": 404}),
    Row("revisions of a published statement", slug_url("statement_history", "published"),
        statuses={"other_coordinator": 404}),
    Row("difference between revisions", slug_url("statement_diff", "draft"), statuses={"other_coordinator": 404}),
    Row("audit history of a draft", slug_url("statement_events", "draft"), statuses=refused(404, 403)),
    Row("audit history of a published statement", slug_url("statement_events", "published"),
        statuses=refused(403, 403)),
    # Comments
    Row("comment on a draft", slug_url("comment_add", "draft"), "post",
        lambda w: {"body": "Mine.", "revision": w["draft"].current_revision.pk}, statuses={"other_coordinator": 404}),
    Row("comment on an open statement", slug_url("comment_add", "open"), "post",
        lambda w: {"body": "Mine.", "revision": w["open"].current_revision.pk}, statuses=refused(404, 403)),
    Row("resolving a comment", lambda w: reverse("comment_resolve", args=[w["draft"].slug, w["comment"].pk]),
        "post", statuses=refused(404, 403)),
    Row("resolving a comment through another statement",
        lambda w: reverse("comment_resolve", args=[w["published"].slug, w["open_comment"].pk]), "post",
        statuses=refused(404, 404)),
    # The statement's life
    Row("opening", slug_url("statement_open", "draft"), "post", statuses=refused(404, 403)),
    Row("closing", slug_url("statement_close", "open"), "post", statuses=refused(404, 403)),
    Row("publishing", slug_url("statement_publish", "closed"), "post", statuses=refused(404, 403)),
    Row("review before opening", slug_url("statement_review", "draft", "open"), statuses=refused(404, 403)),
    Row("review before publishing", slug_url("statement_review", "closed", "publish"), statuses=refused(404, 403)),
    Row("review before a correction", slug_url("statement_review", "published", "correct"),
        statuses=refused(403, 403)),
    Row("reopening", slug_url("statement_reopen", "closed"), "post", statuses=refused(404, 403)),
    Row("moving the deadline", slug_url("statement_deadline", "open"), "post",
        lambda w: {"deadline": (timezone.localtime() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")},
        statuses=refused(404, 403)),
    Row("withdrawing a draft", slug_url("statement_withdraw", "draft"), "post",
        lambda w: {"reason": "Because."}, statuses=refused(404, 403)),
    Row("withdrawing a published statement", slug_url("statement_withdraw", "published"), "post",
        lambda w: {"reason": "Because."}, statuses=refused(403, 403)),
    # Publications
    Row("PDF of a draft", slug_url("statement_pdf", "draft"), statuses={"other_coordinator": 404}),
    Row("correction", slug_url("statement_correct", "published"), "post",
        lambda w: {"note": "A name was misspelt."}, statuses=refused(403, 403)),
    Row("publication retry", slug_url("publication_retry", "published", 1), "post", statuses=refused(403, 403)),
    Row("retry of an issue that does not exist", slug_url("publication_retry", "published", 7), "post",
        statuses=refused(403, 403)),
    # Signing
    Row("sign page of a draft", slug_url("statement_sign", "draft"), statuses={"other_coordinator": 404}),
    Row("sign page of a statement open to organisations", slug_url("statement_sign", "open"),
        statuses={"other_coordinator": 404}),
    Row("signing for an organisation", slug_url("statement_sign", "open"), "post",
        sha_of("open", organisation_placeholder=True), statuses=refused(404, 403)),
    Row("signature sent page of a draft", slug_url("signature_sent", "draft"), statuses={"other_coordinator": 404}),
    Row("declining", slug_url("statement_decline", "open"), "post",
        lambda w: {"organisation": w["member_org"].slug, "reason": ""}, statuses=refused(404, 403)),
    Row("withdrawing an organisation's signature", signature_url("signature_withdraw", "org_signature"), "post",
        statuses=refused(404, 403)),
    Row("confirming a new text", signature_url("signature_confirm_text", "org_signature"), "post",
        sha_of("open"), statuses=refused(404, 403)),
    Row("hiding an individual on an open statement", signature_url("signature_hide", "individual_on_open_to_individuals"),
        "post", lambda w: {"reason": "Abuse."}, statuses=refused(403, 403)),
    Row("hiding an individual on a closed statement", signature_url("signature_hide", "individual_on_closed"),
        "post", lambda w: {"reason": "Abuse."}, statuses=refused(404, 403)),
    Row("roster", slug_url("statement_roster", "open"), statuses=refused(404, 403)),
    Row("roster of a published statement", slug_url("statement_roster", "published"), statuses=refused(403, 403)),
    Row("inviting a partner", slug_url("statement_invite_partner", "open"), "post",
        lambda w: {"organisation": w["outside_org"].pk}, statuses=refused(404, 403)),
    Row("ordering signatories", slug_url("statement_signatory_order", "open"), "post",
        lambda w: {f"place-{w['member_org'].pk}": 1}, statuses=refused(404, 403)),
    Row("reminding", slug_url("statement_remind", "open"), "post", lambda w: {"note": "Sign!"},
        statuses=refused(404, 403)),
    Row("reminding one organisation", lambda w: reverse("statement_remind_organisation",
                                                        args=[w["open"].slug, w["member_org"].slug]),
        "post", statuses=refused(404, 403)),
    Row("reminding on a statement open to individuals", slug_url("statement_remind", "open_to_individuals"), "post",
        statuses=refused(403, 403)),
    Row("signatures CSV", slug_url("statement_signatures_csv", "open"), statuses=refused(404, 403)),
    Row("signatures CSV of a statement open to individuals", slug_url("statement_signatures_csv", "open_to_individuals"),
        statuses=refused(403, 403)),
    Row("signatures CSV of a published statement", slug_url("statement_signatures_csv", "published"),
        statuses=refused(403, 403)),
    # The coalition's own pages
    Row("invitations", lambda w: reverse("invitations", args=[w["draft"].coalition.slug]), statuses=refused(403, 403)),
    Row("sending an invitation", lambda w: reverse("invitations", args=[w["draft"].coalition.slug]), "post",
        lambda w: {"email": "new@example.net", "role": "staff", "organisation": w["member_org"].pk, "language": "en"},
        statuses=refused(403, 403)),
    Row("revoking an invitation", lambda w: reverse("invitation_revoke", args=[w["invitation"].pk]), "post",
        statuses=refused(403, 403)),
    Row("outbox problems", lambda w: reverse("outbox_problems", args=[w["draft"].coalition.slug]),
        statuses=refused(403, 403)),
    Row("people", lambda w: reverse("coalition_people", args=[w["draft"].coalition.slug]), statuses=refused(403, 403)),
    Row("granting signing authority", lambda w: reverse("coalition_people_grant_signing", args=[
        w["draft"].coalition.slug, w["staff_role"].pk]), "post", statuses=refused(403, 403)),
    Row("withdrawing signing authority", lambda w: reverse("coalition_people_withdraw_signing", args=[
        w["draft"].coalition.slug, w["signer_role"].pk]), "post", statuses=refused(403, 403)),
    Row("removing someone from the staff", lambda w: reverse("coalition_people_remove", args=[
        w["draft"].coalition.slug, w["signer_role"].pk]), "post", statuses=refused(403, 403)),
    Row("retrying an email", lambda w: reverse("outbox_retry", args=[w["draft"].coalition.slug, w["failed_email"].pk]),
        "post", statuses=refused(403, 403)),
]

# Per-object URLs that are public by design (a public statement's API entry, an organisation's page)
# or opened with an emailed token rather than a role.
PUBLIC_OR_TOKEN = {"api_statement", "api_statement_signatories", "coalition_detail", "organisation_detail", "short_link", "choose_language",
                   "signature_confirm", "invitation_accept", "subscription_confirm", "unsubscribe",
                   "account_confirm_email", "account_reset_password_from_key",
                   "privacy_erase_confirm",
                   "coalition_look_css", "coalition_logo"}  # a coalition's public look, shown on its public pages

CASES = [pytest.param(row, who, status, id=f"{row.id} / {who}")
         for row in ROWS
         for who, status in {**row.statuses, "signer_of_another_coalition": row.statuses["other_coordinator"]}.items()]


@pytest.fixture
def people(staff, coalition, member_org):
    other = MembershipFactory()
    MembershipFactory(coalition=other.coalition, organisation=member_org)
    signer_elsewhere = OrganisationRoleFactory(organisation=member_org, coalition=other.coalition, can_sign=True).user
    return {"other_coordinator": CoordinatorFactory(coalition=other.coalition).user, "staff": staff,
            "signer_of_another_coalition": signer_elsewhere}


def _data(row, w) -> dict:
    data = row.data(w)
    if data.pop("organisation_placeholder", False):
        data["organisation"] = w["member_org"].slug  # the person's own organisation, without can_sign here
    return data


@pytest.mark.slow
@pytest.mark.parametrize("row, who, status", CASES)
def test_object_url_refuses(client, world, people, row, who, status):
    client.force_login(people[who])
    url, data = row.url(world), _data(row, world)
    before = snapshot()
    response = getattr(client, row.method)(url, data)
    assert response.status_code == status, response.content.decode()[:500]
    if row.method == "post":
        assert snapshot() == before


def test_every_object_url_has_a_row():
    """A new per-object URL gets a row here: every named URL taking a statement's slug, a
    signature, issue, comment, invitation or email, or a coalition's slug, appears above (or is
    public by design, or reached by an emailed token)."""
    from django.urls import get_resolver

    resolver = get_resolver()
    named = {name for name in resolver.reverse_dict if isinstance(name, str)
             for possibilities, *_ in resolver.reverse_dict.getlist(name)
             if any(params for _, params in possibilities)}
    covered = {_url_name(row) for row in ROWS}
    assert named - covered - PUBLIC_OR_TOKEN == set()


def _url_name(row) -> str:
    from django.urls import resolve

    w = _DummyWorld()
    return resolve(row.url(w)).url_name


class _DummyWorld(dict):
    """Enough of a world to build each row's URL without a database."""

    class _Thing:
        slug, pk = "x", 1

        class statement:
            slug = "x"

        class coalition:
            slug = "x"

    def __missing__(self, key):
        return self._Thing
