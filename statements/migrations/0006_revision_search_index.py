"""A GIN index on the text the archive searches (PostgreSQL only; SQLite searches plainly).

The indexed expression is the text of `selectors.SearchMatch`, written out here as it stood, so the
migration stays the same whatever later happens to the selector."""

from django.db import migrations

VECTOR = (
    "to_tsvector(CASE WHEN language = 'en' THEN 'english'::regconfig ELSE 'simple'::regconfig END, "
    "title || ' ' || summary || ' ' || body)"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS revision_search_gin ON statements_revision USING GIN ({VECTOR})")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS revision_search_gin")


class Migration(migrations.Migration):
    dependencies = [("statements", "0005_publications")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
