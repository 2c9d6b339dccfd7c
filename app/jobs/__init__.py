"""Background jobs: the queue, the worker and the training orchestration.

A job is a database row (``app.tables.Job``): the only state the pages, the API and the CLI
read. The queue (Huey: SQLite storage under the data dir, or Redis) carries job ids only.
A worker claims a job in the database before it runs it, so a message delivered twice, or
re-sent by recovery after a worker died, never runs a job twice at once (``runner``).

Modules: ``queue`` (Huey per installation), ``submit`` (create, validate, de-duplicate,
cancel), ``runner`` (claim, heartbeat, finish, recover), ``kinds`` (what each kind runs),
``gan``/``classifier``/``imports`` (the work), ``store`` (patch sets and checkpoints).
"""
