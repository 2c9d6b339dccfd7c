"""``make screenshots`` (tools/screenshots.py) pictures every page: a new GET page of the app
needs a screenshot there, or a reason to leave it out."""

from __future__ import annotations

from tools.screenshots import README_IMAGES, SHOTS, SIZES, SKIPPED, page_routes


def test_every_page_route_has_a_screenshot_or_a_reason_to_skip_it() -> None:
    shown = {shot.route for shot in SHOTS}
    missing = page_routes() - shown - SKIPPED.keys()
    assert not missing, f"add these pages to SHOTS in tools/screenshots.py: {sorted(missing)}"


def test_the_list_names_only_routes_the_app_serves() -> None:
    routes = page_routes()
    assert len(routes) > 20  # the route table was read, not an empty list
    assert {shot.route for shot in SHOTS if shot.route} <= routes  # "": the error pages
    assert set(SKIPPED) <= routes
    assert not {shot.route for shot in SHOTS} & SKIPPED.keys()


def test_screenshot_names_are_unique_and_the_readme_images_are_among_them() -> None:
    names = [shot.name for shot in SHOTS]
    assert len(names) == len(set(names))
    files = {f"{name}-{size}" for name in names for size in SIZES}
    assert {name for name, _ in README_IMAGES} <= files
