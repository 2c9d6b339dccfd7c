"""Reader-study commands: ``study create|open|close|plan|share|unshare`` and
``export STUDY --out DIR``.

``study create [FILE]`` reads a design from FILE (JSON or TOML, the API's body) and/or
flags; flags override the file's values.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.cli.root import cli, cli_session, emit_json, fail
from app.services.studies import access, planning
from app.services.studies import lifecycle as studies
from app.services.studies.spec import StudySpec
from app.tables import Study, User

study_cli = typer.Typer(help="Reader studies (visual Turing tests).", no_args_is_help=True)
cli.add_typer(study_cli, name="study")


def read_design(path: Path) -> dict[str, Any]:
    """A study design from a JSON or TOML file."""
    text = path.read_text()
    data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} does not hold a study design object")
    return data


def flag_design(**flags: Any) -> dict[str, Any]:
    """The design keys that flags set (None and empty lists mean 'not given')."""
    design = {k: v for k, v in flags.items() if v is not None and v != []}
    if "real" in design:
        design["real"] = {"dataset": design.pop("real"), "split": design.pop("split", None)}
    if "generated" in design:
        design["generated"] = {"datasets": design["generated"]}
    if "disjoint" in design:
        design["shared_items"] = not design.pop("disjoint")
    return design


@study_cli.command("create")
def create(
    file: Path | None = typer.Argument(None, help="design as JSON or TOML (the API's body)"),
    name: str | None = typer.Option(None, "--name"),
    real: str | None = typer.Option(None, "--real", help="real dataset"),
    split: str | None = typer.Option(None, "--split", help="train, val or test (default: all)"),
    generated: list[str] = typer.Option([], "--generated", help="generated dataset (repeat)"),
    items_per_reader: int | None = typer.Option(None, "--items-per-reader"),
    real_fraction: float | None = typer.Option(None, "--real-fraction"),
    per_label: bool | None = typer.Option(None, "--per-label/--no-per-label"),
    disjoint: bool | None = typer.Option(None, "--disjoint/--shared"),
    ask_confidence: bool | None = typer.Option(None, "--confidence/--no-confidence"),
    ask_label: bool | None = typer.Option(None, "--label/--no-label"),
    allow_changes: bool | None = typer.Option(None, "--allow-changes/--final"),
    practice_items: int | None = typer.Option(None, "--practice-items"),
    windows: list[str] = typer.Option([], "--window", help="lung or mediastinal (repeat)"),
    instructions: str | None = typer.Option(None, "--instructions"),
    end_text: str | None = typer.Option(None, "--end-text"),
    readers: list[str] = typer.Option([], "--reader", help="reader username (repeat)"),
    seed: int | None = typer.Option(None, "--seed"),
    open_now: bool = typer.Option(False, "--open", help="open the study for reading at once"),
    owner: str | None = typer.Option(
        None, "--owner", help="coordinator who owns it (default: nobody, admins only)"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create a study from a design file and/or flags."""
    flags = {
        k: v for k, v in locals().items() if k not in ("file", "open_now", "owner", "json_out")
    }
    design = {**(read_design(file) if file else {}), **flag_design(**flags)}
    try:
        spec = StudySpec.model_validate(design)
    except ValidationError as exc:
        raise fail(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    with cli_session() as session:
        study = studies.create_study(session, spec, None)
        if owner is not None:
            access.set_owner(session, study, owner, None)
        if open_now:
            studies.open_study(session, study.id, None)
        result = {"id": study.id, "name": study.name, "status": study.status}
    if json_out:
        emit_json(result)
    else:
        typer.echo(f"study {result['name']} ({result['id']}): {result['status']}")


@study_cli.command("open")
def open_command(study: str = typer.Argument(..., help="study name or id")) -> None:
    """Open a study for reading (draws items and renders images the first time)."""
    _set_status(study, studies.open_study)


@study_cli.command("close")
def close_command(study: str = typer.Argument(..., help="study name or id")) -> None:
    """Close a study; it can be reopened."""
    _set_status(study, studies.close_study)


@study_cli.command("plan")
def plan_command(
    readers: int = typer.Option(..., "--readers", help="readers, each reading every item"),
    items: int = typer.Option(..., "--items", help="items per reader"),
    real_fraction: float = typer.Option(0.5, "--real-fraction"),
    alternative: float = typer.Option(
        planning.DEFAULT_ALTERNATIVE, "--alternative", help="judged-real rate to tell from 50%"
    ),
    auc: float = typer.Option(planning.DEFAULT_AUC, "--auc", help="realness AUC to tell from 0.5"),
    pilot: str | None = typer.Option(
        None, "--pilot", help="study (name or id) whose judgments give the variances"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Power of a design, and the readers or items needed for 80% (same as the study form)."""
    with cli_session() as session:
        figures = planning.plan(session, readers, items, real_fraction, alternative, auc, pilot)
    if json_out:
        emit_json(figures)
        return
    for line in planning.describe(figures):
        typer.echo(line)


@study_cli.command("share")
def share_command(
    study: str = typer.Argument(..., help="study name or id"),
    user: str = typer.Argument(..., help="a coordinator's or admin's username"),
    owner: bool = typer.Option(
        False, "--owner", help="make USER the owner (the previous owner stays a collaborator)"
    ),
) -> None:
    """Share a study with a coordinator, who then sees and manages it (or, with --owner,
    give it a new owner)."""
    with cli_session() as session:
        found = studies.find_study(session, study)
        if owner:
            access.set_owner(session, found, user, None)
            typer.echo(f"study {found.name}: owned by {user}")
        elif access.add_collaborator(session, found, user, None) is None:
            typer.echo(f"study {found.name}: {user} already sees it")
        else:
            typer.echo(f"study {found.name}: shared with {user}")


@study_cli.command("unshare")
def unshare_command(
    study: str = typer.Argument(..., help="study name or id"),
    user: str = typer.Argument(..., help="username to stop sharing with"),
) -> None:
    """Stop sharing a study with USER (at once: their next request no longer finds it)."""
    with cli_session() as session:
        found = studies.find_study(session, study)
        access.remove_collaborator(session, found, user, None)
        typer.echo(f"study {found.name}: no longer shared with {user}")


def _set_status(ref: str, change: Callable[[Session, int, User | None], Study]) -> None:
    with cli_session() as session:
        study = change(session, studies.find_study(session, ref).id, None)
        typer.echo(f"study {study.name}: {study.status}")


@cli.command("export")
def export(
    study: str = typer.Argument(..., help="study name or id"),
    out: Path = typer.Option(..., "--out", help="folder for the CSV, JSON and figures"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Write judgments.csv, summary.json, figures (SVG + PNG), study.imrmc (iMRMC input) and
    mrmc.json (MRMC results) of a study."""
    # matplotlib and sklearn: loaded only when needed
    from app.services.studies import results as study_results

    with cli_session() as session:
        found = studies.find_study(session, study)
        files = study_results.export_directory(session, found.id, out, None)
    if json_out:
        emit_json({"study": found.name, "files": [str(f) for f in files]})
    else:
        typer.echo(f"{found.name}: {len(files)} files written to {out}")
