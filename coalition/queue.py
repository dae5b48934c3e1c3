"""Queue a Celery task by its registered name, for modules below the `tasks` module that runs
them (the outbox, the use cases, the fan-outs): `tasks` imports them, so they do not import
`tasks` back.

The task is looked up in the Celery app's registry, where its `tasks` module registered it: it
is the same object, so `.delay` and `.apply_async` behave as there (eager in-process mode when no
broker is configured, as in the tests), and a test that patches one patches both."""

from celery import current_app


def celery_task(name: str):
    """The task registered as `name` (e.g. `statements.tasks.run_fan_out`). A web process may not
    have loaded the task modules yet: then they are loaded as a worker loads them (Celery's
    autodiscovery)."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]
