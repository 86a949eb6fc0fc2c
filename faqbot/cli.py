"""The `faqbot` console command: Flask's CLI bound to the app factory."""
from __future__ import annotations

from flask.cli import FlaskGroup


def _create_app():
    from . import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="faqbot : FAQ, triage et console support.")


def main() -> None:
    cli(prog_name="faqbot")


if __name__ == "__main__":  # `python -m faqbot.cli …`: how gunicorn.conf.py starts the outbox sender
    main()
