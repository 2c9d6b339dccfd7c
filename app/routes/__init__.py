"""HTTP routes: HTML pages for people and the JSON API under ``/api/v1``.

Each module exposes ``router``; add new ones to ``ROUTERS``.
"""

from app.routes import (
    accounts,
    admin,
    api_docs,
    auth,
    datasets,
    health,
    home,
    jobs,
    jobs_pages,
    reading,
    reading_feedback,
    studies,
    studies_api,
    study_machine,
    study_sharing,
)

ROUTERS = [
    health.router,
    api_docs.router,
    auth.router,
    auth.api,
    accounts.tokens_api,
    accounts.users_api,
    home.router,
    admin.router,
    datasets.router,
    datasets.api,
    study_sharing.router,  # before studies.router: its /studies/{id}/{action} takes the rest
    study_sharing.api,
    studies.router,
    studies_api.api,
    study_machine.router,
    study_machine.api,
    reading.router,
    reading.api,
    reading_feedback.api,
    jobs.api,
    jobs.models_api,
    jobs_pages.router,
]
