"""faqbot: French FAQ search, triaged contact form and staff console for a points-recovery booking platform."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the application (the one factory: CLI, gunicorn, tests and evalkit all use it)."""
    # Tests and deployments may put the instance folder elsewhere (each test gets its own).
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("FAQBOT_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)  # secrets, database and e-mails: the service only
    app.config.from_mapping(_config(instance_path, test_config))
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly that many hops of X-Forwarded-For/-Proto: the client address the limits count is real.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from . import db, i18n, request_limits, security, web_errors

    db.init_app(app)
    i18n.init_app(app)
    request_limits.init_app(app)
    security.init_app(app)
    web_errors.init_app(app)

    from .content import cli as content_cli
    from .db_cli import db_group

    app.cli.add_command(db_group)
    app.cli.add_command(content_cli.content_group)
    from .triage.reasons import REASONS_BY_ID

    content_cli.use_contact_reasons(lambda: tuple(REASONS_BY_ID))  # `content check` knows the contact form's reasons

    from . import api_docs, contact, followup, knowledge, mail, privacy, public, staff, widget

    # The FAQ, thesaurus and search service, loaded once and handed to every area.
    knowledge.init_app(app)
    # Each area registers its own blueprints, CLI commands and hooks.
    public.init_app(app)
    contact.init_app(app)
    staff.init_app(app)
    privacy.init_app(app)
    followup.init_app(app)
    mail.init_app(app)
    api_docs.init_app(app)
    widget.init_app(app)
    return app


def _config(instance_path: Path, test_config: dict | None) -> dict:
    from .config import load_config

    config = load_config(instance_path, testing=bool((test_config or {}).get("TESTING")))
    if test_config:
        config.update(test_config)
    return config
