"""Serving the web application."""

from __future__ import annotations

import typer
import uvicorn

from app.cli.root import cli, open_db
from app.config import get_settings


def serve_app(host: str, port: int) -> None:
    """Run uvicorn on the app for the current settings (schema ready first)."""
    open_db().dispose()
    from app.main import create_app

    typer.echo(f"lungsign at http://{host}:{port}/  (Ctrl-C stops)")
    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to bind; 127.0.0.1 unless told"),
    port: int = typer.Option(8000),
) -> None:
    """Run the web server."""
    serve_app(host, port)
