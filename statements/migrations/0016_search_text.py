"""The archive's search terms of every revision (statements.search, docs/search.md).

The terms are made by the code of `statements.search` as it is when this migration runs (they
are derived data, rebuilt at any time by `manage.py rebuild_search_index`). On PostgreSQL `vector`
is a tsvector with a GIN index; the index of migration 0006 (the old word-by-word search) goes."""

import django.db.models.deletion
from django.db import migrations, models

import statements.models

OLD_VECTOR = (
    "to_tsvector(CASE WHEN language = 'en' THEN 'english'::regconfig ELSE 'simple'::regconfig END, "
    "title || ' ' || summary || ' ' || body)"
)


def index_revisions(apps, schema_editor):
    from statements import search  # the rules of today; see the docstring

    SearchText = apps.get_model("statements", "SearchText")
    Revision = apps.get_model("statements", "Revision")
    rows = []
    for revision in Revision.objects.only("pk", "title", "summary", "body").iterator(chunk_size=200):
        found = search.index(revision.title, revision.summary, revision.body)
        rows.append(SearchText(revision_id=revision.pk, version=search.VERSION, **found.__dict__))
        if len(rows) >= 200:
            SearchText.objects.bulk_create(rows)
            rows = []
    SearchText.objects.bulk_create(rows)


def postgres_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS revision_search_gin")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS searchtext_vector_gin ON statements_searchtext USING GIN (vector)")


def postgres_index_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS searchtext_vector_gin")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS revision_search_gin ON statements_revision USING GIN ({OLD_VECTOR})")


class Migration(migrations.Migration):
    dependencies = [("statements", "0015_statement_publication_places")]

    operations = [
        migrations.CreateModel(
            name="SearchText",
            fields=[
                ("revision", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                  related_name="search_text", serialize=False,
                                                  to="statements.revision")),
                ("vector", statements.models.TsVectorField()),
                ("title_terms", models.TextField()),
                ("summary_terms", models.TextField()),
                ("terms", models.TextField()),
                ("version", models.PositiveSmallIntegerField()),
            ],
            options={"verbose_name": "search text", "verbose_name_plural": "search texts"},
        ),
        migrations.RunPython(index_revisions, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(postgres_index, postgres_index_back, elidable=False),
    ]
