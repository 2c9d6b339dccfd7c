"""lungsign: the web service (settings, database, ingest, auth, reader studies, jobs, CLI)."""
