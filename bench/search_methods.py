"""Two ways to make the archive's search understand Ukrainian, measured on one query set
(tests/search_queries.py: the demo texts, Ukrainian queries in dictionary and inflected forms,
English ones), beside the search as it was (English stemmed, Ukrainian word by word):

- ``hunspell``: a PostgreSQL text-search configuration whose dictionary is Debian's Ukrainian
  hunspell dictionary (package hunspell-uk), copied into PostgreSQL's tsearch_data as
  uk_ua.dict/uk_ua.affix; Ukrainian texts indexed with it, English ones with "english";
- ``pymorphy3``: statements.search: every word reduced in Python to its dictionary forms (pymorphy3,
  Ukrainian dictionary) or English stem (Snowball), stored as a tsvector (PostgreSQL) and as term
  lists (SQLite: ``pymorphy3-sqlite`` matches them as SQLite does, in Python here);
- ``before``: to_tsvector('english' for English, 'simple' otherwise), both ways for the query.

For each: recall (queries finding every statement they must), exact (finding those and no other),
ranking (probes where one statement has the word in its title: is it first?), the time to index
the texts and per query, and for hunspell the time and memory a new database connection spends
loading the dictionary the first time it is used. Needs PostgreSQL (DATABASE_URL's server, default
127.0.0.1:5432, user postgres) and, for hunspell, the dictionary files in tsearch_data (copied
there by this script when it may write there; see docs/search.md). Makes and drops its own
database, search_methods_bench. Run from the project folder:

    .venv/bin/python bench/search_methods.py [--repeat 20]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402

from statements import search  # noqa: E402
from tests import search_queries  # noqa: E402

DATABASE = "search_methods_bench"
HUNSPELL = Path("/usr/share/hunspell")

# One statement has the word in its title, others only in a summary or body: it must come first.
RANKING_PROBES = [
    ("депортація", "children"), ("суд", "children"), ("дитина", "children"), ("учасниця", "arrest"),
    ("зустріч", "kazan"), ("Монголія", "arrest"), ("лідер", "kazan"),
    ("Mongolia", "mongolia"), ("territories", "arrest"), ("duty", "mongolia"), ("reaction", "early"),
]


def server_url(database: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database}"


def install_dictionary() -> str:
    """Copy the hunspell files where PostgreSQL reads dictionaries; returns what happened."""
    share = Path(subprocess.run(["pg_config", "--sharedir"], capture_output=True, text=True, check=True)
                 .stdout.strip()) / "tsearch_data"
    if (share / "uk_ua.affix").exists() and (share / "uk_ua.dict").exists():
        return f"present in {share}"
    if not (HUNSPELL / "uk_UA.aff").exists():
        sys.exit("hunspell-uk is not installed (scripts/bootstrap installs it)")
    if not os.access(share, os.W_OK):
        sys.exit(f"{share} is not writable: copy uk_UA.aff/.dic there as uk_ua.affix/.dict (docs/search.md)")
    shutil.copy(HUNSPELL / "uk_UA.aff", share / "uk_ua.affix")  # both are UTF-8 already
    shutil.copy(HUNSPELL / "uk_UA.dic", share / "uk_ua.dict")
    return f"copied into {share}"


def texts():
    for key, versions in search_queries.STATEMENTS.items():
        for version in versions:
            if version is not None:
                language, draft = version
                yield key, language, draft.title, draft.summary, draft.body


SCHEMA = """
CREATE TEXT SEARCH DICTIONARY ukrainian_hunspell (TEMPLATE = ispell, DictFile = uk_ua, AffFile = uk_ua);
CREATE TEXT SEARCH CONFIGURATION ukrainian (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION ukrainian ALTER MAPPING FOR word, hword, hword_part WITH ukrainian_hunspell, simple;
CREATE TABLE texts (statement text, language text, title text, summary text, body text,
                    hunspell tsvector, before tsvector, pymorphy3 tsvector, title_terms text, terms text);
"""

VECTOR = ("setweight(to_tsvector({c}, %(title)s), 'A') || setweight(to_tsvector({c}, %(summary)s), 'B')"
          " || setweight(to_tsvector({c}, %(body)s), 'C')")


def index(cursor, method: str) -> float:
    start = time.perf_counter()
    for key, language, title, summary, body in texts():
        row = {"key": key, "language": language, "title": title, "summary": summary, "body": body}
        if method == "hunspell":
            config = "'english'::regconfig" if language == "en" else "'ukrainian'::regconfig"
            cursor.execute(f"UPDATE texts SET hunspell = {VECTOR.format(c=config)} "
                           "WHERE statement = %(key)s AND language = %(language)s", row)
        elif method == "before":
            config = "'english'::regconfig" if language == "en" else "'simple'::regconfig"
            cursor.execute(f"UPDATE texts SET before = {VECTOR.format(c=config)} "
                           "WHERE statement = %(key)s AND language = %(language)s", row)
        else:
            found = search.index(title, summary, body)
            cursor.execute("UPDATE texts SET pymorphy3 = %s::tsvector, title_terms = %s, terms = %s "
                           "WHERE statement = %s AND language = %s",
                           [found.vector, found.title_terms, found.terms, key, language])
    return time.perf_counter() - start


def ask(cursor, method: str, q: str) -> list[str]:
    """The statements found, best first (title matches first where the method can tell)."""
    if method == "pymorphy3-sqlite":
        query = search.parse(q)
        cursor.execute("SELECT statement, title_terms, terms FROM texts")
        best: dict[str, int] = {}
        for key, title_terms, terms in cursor.fetchall():
            if query and query.matches_terms(set(terms.split())):
                best[key] = max(best.get(key, 0), 1 + query.matches_terms(set(title_terms.split())))
        return sorted(best, key=lambda key: -best[key])
    if method == "pymorphy3":
        tsquery = search.parse(q).tsquery() or "''"
        sql = ("SELECT statement, max(CASE WHEN ts_filter(pymorphy3, '{a}') @@ %(q)s::tsquery THEN 4 ELSE 0 END"
               " + CASE WHEN ts_filter(pymorphy3, '{b}') @@ %(q)s::tsquery THEN 2 ELSE 0 END"
               " + ts_rank(pymorphy3, %(q)s::tsquery, 32)) AS score"
               " FROM texts WHERE pymorphy3 @@ %(q)s::tsquery GROUP BY statement ORDER BY score DESC")
        cursor.execute(sql, {"q": tsquery})
    else:
        other = "ukrainian" if method == "hunspell" else "simple"
        query = f"(websearch_to_tsquery('english', %(q)s) || websearch_to_tsquery('{other}', %(q)s))"
        cursor.execute(f"SELECT statement, max(ts_rank({method}, {query})) AS score FROM texts "
                       f"WHERE {method} @@ {query} GROUP BY statement ORDER BY score DESC", {"q": q})
    return [row[0] for row in cursor.fetchall()]


def dictionary_load() -> tuple[float, float]:
    """A new connection's first use of the hunspell dictionary: seconds, and MB of its memory."""
    with psycopg.connect(server_url(DATABASE), autocommit=True) as connection:
        start = time.perf_counter()
        connection.execute("SELECT to_tsvector('ukrainian', 'депортації')")
        seconds = time.perf_counter() - start
        used = connection.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts").fetchone()[0]
    return seconds, used / 2**20


def measure(cursor, method: str, repeat: int) -> dict:
    if method == "hunspell":  # the dictionary's loading is measured apart (dictionary_load)
        cursor.execute("SELECT to_tsvector('ukrainian', 'слово')")
    index_seconds = index(cursor, method) if method != "pymorphy3-sqlite" else 0.0
    per_kind: dict[str, list[int]] = {}
    exact = 0
    misses = []
    start = time.perf_counter()
    for _ in range(repeat):
        answers = [(kind, q, found, ask(cursor, method, q)) for kind, q, found in search_queries.ALL]
    query_ms = (time.perf_counter() - start) / repeat / len(search_queries.ALL) * 1000
    for kind, q, found, got in answers:
        hit = found <= set(got)
        per_kind.setdefault(kind, []).append(hit)
        exact += found == set(got)
        if not hit:
            misses.append(q)
    ranked = sum(ask(cursor, method, q)[:1] == [first] for q, first in RANKING_PROBES)
    return {"method": method, "recall": {kind: f"{sum(hits)}/{len(hits)}" for kind, hits in per_kind.items()},
            "exact": f"{exact}/{len(search_queries.ALL)}", "ranking": f"{ranked}/{len(RANKING_PROBES)}",
            "index_ms": round(index_seconds * 1000, 1), "query_ms": round(query_ms, 2), "missed": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="times each query set is asked (for the timing)")
    args = parser.parse_args()
    print("hunspell dictionary:", install_dictionary())
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    try:
        with psycopg.connect(server_url(DATABASE), autocommit=True) as connection:
            cursor = connection.cursor()
            cursor.execute(SCHEMA)
            for key, language, *_ in texts():
                cursor.execute("INSERT INTO texts (statement, language) VALUES (%s, %s)", [key, language])
            search.terms_of("слово")  # pymorphy3's dictionary loaded before timing (0.2 s, once per process)
            for method in ("before", "hunspell", "pymorphy3", "pymorphy3-sqlite"):
                print(measure(cursor, method, args.repeat))
        seconds, megabytes = dictionary_load()
        print(f"hunspell: a new connection's first Ukrainian text takes {seconds:.2f} s; "
              f"the connection then holds {megabytes:.0f} MB")
        with psycopg.connect(server_url(DATABASE), autocommit=True) as connection:
            used = connection.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts").fetchone()[0]
        print(f"(a connection that has not loaded it holds {used / 2**20:.0f} MB)")
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    main()
