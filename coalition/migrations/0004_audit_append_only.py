from django.db import migrations

# The audit log is append-only, enforced by PostgreSQL itself so that raw SQL is refused as well as
# the ORM: UPDATE and DELETE of a row, and TRUNCATE of the table, raise. Someone who can drop the
# trigger can still remove rows; the anchors printed in published PDFs and listed on
# /transparency/ are what make that visible (`coalition.audit.verify`).
#
# TRUNCATE is let through only for a session that set `coalition.audit_truncate` to 'on': the test
# suite's flush between transactional tests does (tests/conftest.py). That needs the same SQL
# access as dropping the trigger, so it opens nothing new.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION coalition_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('coalition.audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON coalition_auditevent
    FOR EACH ROW EXECUTE FUNCTION coalition_audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON coalition_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION coalition_audit_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS audit_event_append_only ON coalition_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON coalition_auditevent;
DROP FUNCTION IF EXISTS coalition_audit_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # the SQL holds literal % signs
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0003_organisationrole_signing_since"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(APPEND_ONLY_SQL), _on_postgresql(DROP_SQL)),
    ]
