"""HTTP routes: HTML pages for people and the JSON API under ``/api/v1``.

Each module exposes ``router``; add new ones to ``ROUTERS``.
"""

from app.routes import auth, datasets, health, home, reading, studies, studies_api

ROUTERS = [
    health.router,
    auth.router,
    auth.api,
    home.router,
    datasets.router,
    datasets.api,
    studies.router,
    studies_api.api,
    reading.router,
    reading.api,
]
