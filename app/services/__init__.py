"""Business logic: routes and the CLI call these; they call the database and ``models``."""
