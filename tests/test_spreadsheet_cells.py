"""CSV cells are inert in a spreadsheet however it splits them: a formula start at the start of a
cell or after a separator (`,` `;` tab, line break) is written as text; in the coordinators'
signatures.csv as in the PDF's embedded signatories.csv."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from statements.models import Signature
from statements.text import spreadsheet_cell

from .factories import make_statement

PAYLOADS = ["=1+1", "x;=1+1", "x,=1+1", "x\t=1+1", "@SUM(A1:A9)", "-2+3", "+cmd|' /C calc'!A0",
            "Olena; =HYPERLINK(\"https://evil.example\")", "a,\n=1", "\t=1+1", "x;\r=1", "x; @A1"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def pieces(cell: str) -> list[str]:
    """Every piece a spreadsheet could make of the cell: split on any of the usual separators,
    leading spaces dropped as spreadsheets do."""
    for separator in (",", ";", "\t", "\r", "\n"):
        cell = cell.replace(separator, "\x00")
    return [piece.lstrip(" ") for piece in cell.split("\x00")]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_piece_of_a_written_cell_starts_a_formula(payload):
    written = spreadsheet_cell(payload)
    assert not [piece for piece in pieces(written) if piece.startswith(FORMULA)], repr(written)
    # Nothing typed is lost: only apostrophes are added.
    assert written.replace("'", "") == payload.replace("'", "")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_row_read_back_with_any_delimiter_has_no_formula_cell(delimiter):
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_cell(payload) for payload in PAYLOADS])
    for row in csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=delimiter):
        assert not [cell for cell in row if cell.lstrip(" ").startswith(FORMULA)], row


@pytest.mark.parametrize("ordinary", ["Olena Kovalenko", "Jean-Paul Sartre", "Truth Hounds", "Kyiv, Ukraine",
                                      "ZMINA; Kharkiv", "12", "a-b+c"])
def test_ordinary_text_is_written_as_it_was_typed(ordinary):
    assert spreadsheet_cell(ordinary) == ordinary


@pytest.mark.django_db
def test_the_signatures_csv_a_coordinator_downloads_is_inert_split_on_semicolons(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    revision = statement.signed_revision
    for number, (name, affiliation) in enumerate(zip(PAYLOADS, reversed(PAYLOADS))):
        Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                                 name=name, affiliation=affiliation, email=f"p{number}@example.org",
                                 confirmed_at=timezone.now())
    client.force_login(coordinator)
    body = b"".join(client.get(reverse("statement_signatures_csv", args=[statement.slug])).streaming_content)
    text = body.decode("utf-8-sig")
    for delimiter in (",", ";", "\t"):
        cells = [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]
        assert not [cell for cell in cells if cell.lstrip(" ").startswith(FORMULA)], delimiter
    assert "x;'=1+1" in text and "'-2+3" in text
