"""Queue a Celery task by its name, for the modules below `statements.tasks` (the use cases, the
fan-outs): `tasks` imports them to run them, so they do not import `tasks` back.

The task is looked up in the Celery app's registry, where `statements.tasks` registered it: it
is the same object, so `.delay` and `.apply_async` behave as there (eager in-process mode when no
broker is configured, as in the tests)."""

from celery import current_app


def celery_task(name: str):
    """The task `statements.tasks.<name>`. A web process may not have loaded the task modules
    yet: then they are loaded as a worker loads them (Celery's autodiscovery)."""
    full_name = f"statements.tasks.{name}"
    if full_name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[full_name]
