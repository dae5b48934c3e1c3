"""Database helpers the ORM has no single call for."""

from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_new(obj: Model) -> bool:
    """Insert `obj` unless a unique constraint already holds a row like it: one statement,
    `INSERT … ON CONFLICT DO NOTHING RETURNING id`, with no savepoint and no query first.

    Returns True with `obj.pk` set if the row was written, False if it was not (the transaction
    goes on unharmed, unlike after an IntegrityError). For rows written on every request, where
    a savepoint and a lookup would cost three round trips more. Model.save() is not called: no
    save() override and no pre_save/post_save signal runs, so use it only for models that need
    neither at creation. SQLite's form of it (INSERT OR IGNORE) also skips rows that break a NOT
    NULL or CHECK constraint, so a caller told False should look for the existing row and raise
    if there is none."""
    model = type(obj)
    meta = model._meta
    using = router.db_for_write(model, instance=obj)
    fields = [f for f in meta.local_concrete_fields
              if not getattr(f, "generated", False) and not (f.primary_key and getattr(obj, f.attname) is None)]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [meta.pk]
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:  # pragma: no cover (every backend used has it)
        raise NotImplementedError("insert_new() needs INSERT … RETURNING")
    [(sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = meta.pk.to_python(row[0])
    obj._state.adding = False
    obj._state.db = using
    return True


def insert_many_new(objs: list[Model], returning: str | None = None) -> list:
    """Insert every row of `objs` (all of one model) that no unique constraint already holds, in
    one statement: `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING id`. Returns the
    primary keys of the rows written (those skipped return none), or with `returning` (a field's
    name) pairs of the primary key and that field; the objects themselves are left as they are.
    Like `insert_new`, no save() or signal runs; keep a batch under the database's limit of
    parameters (PostgreSQL: 65,535, so about 2,000 rows of twenty columns)."""
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    using = router.db_for_write(model)
    fields = [f for f in meta.local_concrete_fields
              if not getattr(f, "generated", False) and not (f.primary_key and getattr(objs[0], f.attname) is None)]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = [meta.pk] + ([meta.get_field(returning)] if returning else [])
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover (PostgreSQL and SQLite have it)
        raise NotImplementedError("insert_many_new() needs INSERT … RETURNING for many rows")
    [(sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if returning:
        return [(meta.pk.to_python(row[0]), row[1]) for row in rows]
    return [meta.pk.to_python(row[0]) for row in rows]
