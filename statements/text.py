"""The text of a statement: its canonical form (what signatures bind to), Markdown rendering
with sanitising, and word-level differences between two texts.

Pure functions: no database, no I/O.
"""

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import markdown
import nh3

# Markup a statement body may use once rendered: prose, lists, quotes, tables and links.
ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "sub", "sup",
    "blockquote", "ul", "ol", "li", "a", "code", "pre", "abbr", "table", "thead", "tbody", "tr",
    "th", "td", "dl", "dt", "dd",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def normalise(value: str) -> str:
    """One field in canonical form: Unicode NFC, LF line endings, no trailing spaces or tabs on
    any line, no blank lines at the start or end."""
    value = unicodedata.normalize("NFC", value or "")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip(" \t") for line in value.split("\n")]
    return "\n".join(lines).strip("\n")


def normalise_title(value: str) -> str:
    """A title is one line: runs of whitespace become one space."""
    return " ".join(normalise(value).split())


def canonical_text(title: str, summary: str, body: str) -> str:
    """The canonical text of a revision, what its SHA-256 is taken over and what a PDF prints:

    the title, a blank line, the summary, a blank line, the body (``"title\\n\\nsummary\\n\\nbody"``),
    each field normalised by `normalise()` (NFC, LF, trailing spaces stripped, outer blank lines
    removed) and the title folded onto one line. Encoded as UTF-8 for hashing. An empty summary
    still leaves its blank lines, so the three parts are always told apart.
    """
    return f"{normalise_title(title)}\n\n{normalise(summary)}\n\n{normalise(body)}"


def sha256_of(title: str, summary: str, body: str) -> str:
    return hashlib.sha256(canonical_text(title, summary, body).encode("utf-8")).hexdigest()


def render_markdown(body: str) -> str:
    """Markdown to HTML, sanitised: no scripts, no event handlers, no `javascript:` links, no raw
    styles (what such tags held shows as plain text, so no words go missing); links open as
    ordinary links with `rel="noopener noreferrer"`."""
    html = markdown.markdown(_bracket_safe(body or ""), extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        # Raw <script> or <style> in the Markdown is not run or applied but shown as text (nh3's
        # default drops it with all it holds, and an unclosed one with the rest of the text).
        clean_content_tags=set(),
    )


# Python-Markdown looks for the `]` closing each `[` by scanning the rest of its paragraph, once
# for each of its link and reference patterns: a paragraph of 20,000 `[` took 38 s. A paragraph
# with more brackets than prose needs has each `[` that no `]` closes, and each pair nested
# deeper than links ever are, escaped first (they show as typed), so each scan stops early.
_BRACKETS_PLAIN = 16
_BRACKET_DEPTH = 3
_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")


def _bracket_safe(body: str) -> str:
    parts = _PARAGRAPH_BREAK.split(body)
    return "".join(
        _escape_stray_brackets(part) if part.count("[") > _BRACKETS_PLAIN else part for part in parts
    )


def _escape_stray_brackets(paragraph: str) -> str:
    """`[` and `]` that Markdown's link patterns would scan far for, escaped (`\\[`): each `[`
    not closed in this paragraph, each pair nested deeper than _BRACKET_DEPTH, and each `]` that
    opens nothing. Brackets already escaped stay as they are. Linear in the paragraph."""
    escaped: set[int] = set()
    open_at: list[int] = []
    position = 0
    while position < len(paragraph):
        mark = paragraph[position]
        if mark == "\\":
            position += 2
            continue
        if mark == "[":
            open_at.append(position)
        elif mark == "]":
            if open_at:
                start = open_at.pop()
                if len(open_at) >= _BRACKET_DEPTH:
                    escaped.update((start, position))
            else:
                escaped.add(position)
        position += 1
    escaped.update(open_at)
    if not escaped:
        return paragraph
    return "".join("\\" + mark if index in escaped else mark for index, mark in enumerate(paragraph))


# Words (any script, with inner apostrophes and hyphens), runs of whitespace, or single other marks.
_TOKEN = re.compile(r"[\w’'-]+|\s+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


@dataclass(frozen=True)
class Chunk:
    """A run of text that is the same in both versions ("equal"), only in the newer ("insert")
    or only in the older ("delete"). `coarse`: part of a change too large to show word by word,
    shown as the lines removed and the lines added."""

    kind: str
    text: str
    coarse: bool = False


# Word-level comparison costs up to the product of the two token counts (and more: it took 164 s
# for two texts of 16 KB): texts within WORD_DIFF_MAX_PAIRS are compared word by word whole;
# larger ones line by line first (their common start and end set aside, then at most
# LINE_DIFF_MAX_PAIRS pairs of lines), and word by word only inside each changed block within the
# same bound. A block over it is shown as lines removed and lines added.
WORD_DIFF_MAX_PAIRS = 250_000
LINE_DIFF_MAX_PAIRS = 250_000


def word_diff(old: str, new: str) -> list[Chunk]:
    """The word-level difference between two texts, as chunks to show inline with <del>/<ins>.
    Works the same for Cyrillic and Latin text (words are Unicode word characters). Changes
    separated only by a space are shown as one change, so a reworded phrase reads as a phrase.
    Bounded in time: see WORD_DIFF_MAX_PAIRS; `is_coarse()` tells when part of it is not shown
    word by word."""
    a, b = tokens(old), tokens(new)
    if len(a) * len(b) <= WORD_DIFF_MAX_PAIRS:
        return _token_diff(a, b)
    old_lines, new_lines = (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True)
    chunks: list[Chunk] = []
    for op, i1, i2, j1, j2 in _line_opcodes(old_lines, new_lines):
        removed, added = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "equal":
            chunks.append(Chunk("equal", removed))
            continue
        a, b = tokens(removed), tokens(added)
        if len(a) * len(b) <= WORD_DIFF_MAX_PAIRS:
            chunks.extend(_token_diff(a, b))
        else:
            chunks.extend(Chunk(kind, part, coarse=True) for kind, part in (("delete", removed), ("insert", added)) if part)
    return _joined(chunks)


def is_coarse(chunks: list[Chunk]) -> bool:
    """Part of the difference is too large to show word by word."""
    return any(chunk.coarse for chunk in chunks)


def _line_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Line-level opcodes: the common first and last lines set aside, the middle compared line by
    line when small enough, else one replaced block."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start:len(a) - end], b[start:len(b) - end]
    if len(middle_a) * len(middle_b) <= LINE_DIFF_MAX_PAIRS:
        middle = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False).get_opcodes()
    else:
        middle = [("replace", 0, len(middle_a), 0, len(middle_b))]
    opcodes = [("equal", 0, start, 0, start)] if start else []
    opcodes += [(op, i1 + start, i2 + start, j1 + start, j2 + start) for op, i1, i2, j1, j2 in middle]
    if end:
        opcodes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return opcodes


def _joined(chunks: list[Chunk]) -> list[Chunk]:
    joined: list[Chunk] = []
    for chunk in chunks:
        if not chunk.text:
            continue
        if joined and joined[-1].kind == chunk.kind and joined[-1].coarse == chunk.coarse:
            chunk = Chunk(chunk.kind, joined.pop().text + chunk.text, chunk.coarse)
        joined.append(chunk)
    return joined


def _token_diff(a: list[str], b: list[str]) -> list[Chunk]:
    chunks: list[Chunk] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            chunks.append(Chunk("delete", "".join(deleted)))
        if inserted:
            chunks.append(Chunk("insert", "".join(inserted)))
        deleted.clear()
        inserted.clear()

    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            same = a[i1:i2]
            between_changes = (deleted or inserted) and index + 1 < len(opcodes)
            if between_changes and len(same) == 1 and same[0].isspace() and "\n" not in same[0]:
                deleted.append(same[0])
                inserted.append(same[0])
                continue
            flush()
            chunks.append(Chunk("equal", "".join(same)))
        else:
            deleted.extend(a[i1:i2])
            inserted.extend(b[j1:j2])
    flush()
    return chunks


def has_changes(chunks: list[Chunk]) -> bool:
    return any(chunk.kind != "equal" for chunk in chunks)


# What starts a formula in Excel, LibreOffice or Google Sheets (`= + - @`; a tab or carriage
# return can hide one that follows), at the beginning of the cell or after anything a spreadsheet
# may split a line on (`,` `;` tab, a line break; `;` is the separator of Ukrainian and most EU
# locales), with spaces between. A spreadsheet that splits on `;` ignores our quoting, so every
# piece the cell could become must be inert, not only its start.
_FORMULA_AFTER_SEPARATOR = re.compile(r"(^|[,;\t\r\n])([ \u00a0]*)(?=[=+\-@\t\r])")


def spreadsheet_cell(value) -> str:
    """A CSV cell as it is safe to open in a spreadsheet, however the spreadsheet splits it: each
    formula start (`= + - @`, tab, carriage return) at the start of the cell or right after a
    separator (`,` `;` tab, line break, with any spaces between) gets an apostrophe before it, so
    `=1+1` is written `'=1+1` and `x;=1+1` is written `x;'=1+1`: every piece stays text."""
    return _FORMULA_AFTER_SEPARATOR.sub(r"\1\2'", str(value))
