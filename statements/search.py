"""Search that understands Ukrainian (docs/search.md).

Every word is reduced to its search terms before it is stored or looked for: a Ukrainian (Cyrillic)
word to all its dictionary forms by pymorphy3's Ukrainian dictionary («Казані» -> казан, казаний,
казань), an English (Latin) word to its Snowball stem, the algorithm PostgreSQL's "english"
configuration uses («deportations» -> deport). A query's word matches a text's word when they share
a term, so «депортація» finds «депортації» and «Казань» finds «Казані», and the reverse.

A revision's terms are stored once, when it is saved (revisions never change): in `SearchText`,
as a PostgreSQL tsvector literal (title weighted A, summary B, body C; every dictionary form of a
word at the word's position, so "phrases" still match) and as plain lists of terms, which SQLite
searches (terms are case-folded, so case is folded for every alphabet there too)."""

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import SearchText

# Bumped when the terms of a word change (a new dictionary, another rule): `rebuild_search_index`
# then recomputes the stored terms.
VERSION = 1

# A word: letters and digits, with apostrophes (обов’язок) and hyphens (Львової-Бєлової) inside.
_PART = r"[^\W_]+(?:['’ʼ`][^\W_]+)*"
WORD = re.compile(rf"{_PART}(?:-{_PART})*")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")

MAX_LEMMAS = 6          # an unknown word gets guesses; a few are enough
MAX_POSITION = 16383    # PostgreSQL's largest tsvector position
MAX_POSITIONS = 256     # and the most positions it keeps for one lexeme
MAX_QUERY_WORDS = 10
MAX_TERM_BYTES = 2046

WEIGHTS = {"title": "A", "summary": "B", "body": "C"}

# English words too common to mean anything alone (the start of PostgreSQL's english.stop): left
# out of queries so "the court" asks for "court", as the "english" configuration did.
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be been by for from had has have he her his in is it its of on or that the "
    "their them they this to was were which will with".split())


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3  # loaded on first use: up to 0.2 s and 22 MB that pages without search never need

    logging.getLogger("pymorphy3").setLevel(logging.WARNING)  # not a line per process saying it loaded
    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=1)
def _english():
    import snowballstemmer  # as above

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=50_000)  # a vocabulary of 50,000 forms: about 25 MB at most
def terms_of(word: str) -> frozenset[str]:
    """The search terms of one word: its case-folded form and its dictionary forms (Ukrainian) or
    stem (English). Two words match when their terms meet."""
    folded = word.casefold().translate(_APOSTROPHES)
    found = {folded}
    if _CYRILLIC.search(folded):
        lemmas = dict.fromkeys(parse.normal_form.translate(_APOSTROPHES) for parse in _morph().parse(folded))
        found.update(list(lemmas)[:MAX_LEMMAS])
        if "-" in folded:  # «держави-учасниці»: each part is a word of its own too
            for part in folded.split("-"):
                found.update(terms_of(part))
    elif _LATIN.search(folded):
        found = {_english().stemWord(folded)}
        if "-" in folded:
            found.update(_english().stemWord(part) for part in folded.split("-"))
    return frozenset(term for term in found if term and len(term.encode()) <= MAX_TERM_BYTES)


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


# What is stored ---------------------------------------------------------------------------------

@dataclass
class Indexed:
    """A revision's stored terms (`SearchText`'s fields)."""

    vector: str
    title_terms: str
    summary_terms: str
    terms: str


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _term_list(found: set[str]) -> str:
    """Terms as SQLite searches them: one string, each term between spaces."""
    return " " + " ".join(sorted(found)) + " " if found else ""


def index(title: str, summary: str, body: str) -> Indexed:
    """The terms of a text, each at the position of its word (title, summary, body in turn)."""
    positions: dict[str, list[str]] = {}
    by_field: dict[str, set[str]] = {}
    position = 0
    for name, text in (("title", title), ("summary", summary), ("body", body)):
        by_field[name] = set()
        for word in words(text):
            position = min(position + 1, MAX_POSITION)
            for term in terms_of(word):
                by_field[name].add(term)
                found = positions.setdefault(term, [])
                if len(found) < MAX_POSITIONS:
                    found.append(f"{position}{WEIGHTS[name]}")
    vector = " ".join(f"{_lexeme(term)}:{','.join(at)}" for term, at in sorted(positions.items()))
    return Indexed(vector=vector, title_terms=_term_list(by_field["title"]),
                   summary_terms=_term_list(by_field["summary"]),
                   terms=_term_list(by_field["title"] | by_field["summary"] | by_field["body"]))


def index_revision(revision) -> None:
    """Store (or replace) the search terms of `revision`; called whenever a revision is saved."""
    found = index(revision.title, revision.summary, revision.body)
    SearchText.objects.update_or_create(revision=revision, defaults={**found.__dict__, "version": VERSION})


def rebuild(revisions, *, stale_only: bool = False) -> int:
    """Index `revisions` (a queryset), or only those indexed by an older VERSION or never; returns
    how many were indexed."""
    if stale_only:
        revisions = revisions.exclude(search_text__version=VERSION)
    count = 0
    for revision in revisions.only("pk", "title", "summary", "body").iterator(chunk_size=200):
        index_revision(revision)
        count += 1
    return count


# What is asked ----------------------------------------------------------------------------------

Alternatives = frozenset[str]  # the terms of one word of the query: any of them matches


@dataclass
class Clause:
    """A word, or a "quoted phrase" (several words in a row), possibly negated (-word)."""

    words: list[Alternatives]
    negated: bool = False


@dataclass
class Query:
    """A query as web search engines read it: words all required, "quoted phrases", -excluded
    words, `or` between two words (PostgreSQL's websearch_to_tsquery rules). `groups` are ANDed;
    the clauses of a group ORed."""

    groups: list[list[Clause]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def wanted(self) -> frozenset[str]:
        """Every term the query looks for (not those it excludes): what a snippet marks."""
        return frozenset(term for group in self.groups for clause in group if not clause.negated
                         for word in clause.words for term in word)

    def tsquery(self) -> str:
        """The query as a PostgreSQL tsquery literal."""
        def clause(c: Clause) -> str:
            words = " <-> ".join("(" + " | ".join(_lexeme(term) for term in sorted(word)) + ")" for word in c.words)
            return f"!({words})" if c.negated else f"({words})"
        return " & ".join("(" + " | ".join(clause(c) for c in group) + ")" for group in self.groups)

    def matches_terms(self, found: set[str] | frozenset[str]) -> bool:
        """Does a text whose terms are `found` match (phrases taken as their words)?"""
        def clause(c: Clause) -> bool:
            present = all(word & found for word in c.words)
            return not present if c.negated else present
        return all(any(clause(c) for c in group) for group in self.groups)


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse(q: str) -> Query:
    """Read a query: at most 10 words are used; words with no letter or digit are skipped, and
    so are English stop words outside quotes ("the", "of")."""
    query, budget, join_next = Query(), MAX_QUERY_WORDS, False
    for match in _TOKEN.finditer(q or ""):
        negated_phrase, phrase, token = match.groups()
        if token is not None and token.casefold() == "or":
            join_next = bool(query.groups)
            continue
        if token is not None:
            negated = token.startswith("-")
            found = [terms_of(word) for word in words(token)
                     if word.casefold() not in ENGLISH_STOP_WORDS]
        else:
            negated = bool(negated_phrase)
            found = [terms_of(word) for word in words(phrase)]
        found = [word for word in found if word][:budget]
        if not found:
            continue
        budget -= len(found)
        # A token of several words («Львової-Бєлової», don't) is a phrase of them, as in PostgreSQL.
        clause = Clause(found, negated=negated)
        if join_next:
            query.groups[-1].append(clause)
        else:
            query.groups.append([clause])
        join_next = False
        if budget <= 0:
            break
    return query


# What is shown ----------------------------------------------------------------------------------

SNIPPET_BEFORE, SNIPPET_AFTER = 12, 24


def _best_hit(hits: list[tuple[int, set[int]]]) -> int:
    """The matching word whose passage holds the most different words of the query (the first
    of those): «депортація Казань» shows where both are, not only the first «Казані». `hits`:
    (word's place in the text, the query words it matches)."""
    def variety(k: int) -> int:
        at = hits[k][0]
        return len(set().union(*(which for i, which in hits[k:] if i <= at + SNIPPET_AFTER)))
    return hits[max(range(len(hits)), key=lambda k: (variety(k), -k))][0]


def snippet(texts: list[str], query: Query) -> SafeString:
    """A passage of the first of `texts` that holds a word of `query`, every matching word in
    <mark>, the rest escaped (the text is what users wrote). Empty if none matches."""
    wanted = query.wanted
    asked = [word for group in query.groups for clause in group if not clause.negated for word in clause.words]
    for text in texts:
        spans = list(WORD.finditer(text or ""))
        hits = [(i, {k for k, word in enumerate(asked) if word & found}) for i, match in enumerate(spans)
                if (found := terms_of(match.group()) & wanted)]
        if not hits:
            continue
        hit = _best_hit(hits)
        first, last = max(hit - SNIPPET_BEFORE, 0), min(hit + SNIPPET_AFTER, len(spans) - 1)
        start = spans[first].start() if first else 0
        end = spans[last].end() if last < len(spans) - 1 else len(text)
        parts, at = ["…" if first else ""], start
        for match in spans[first:last + 1]:
            if terms_of(match.group()) & wanted:
                parts += [escape(text[at:match.start()]), "<mark>", escape(match.group()), "</mark>"]
                at = match.end()
        parts += [escape(text[at:end]), "…" if last < len(spans) - 1 else ""]
        return mark_safe(" ".join("".join(parts).split()))  # noqa: S308 - every piece of text is escaped
    return mark_safe("")
