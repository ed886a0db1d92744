"""Fieldwork: the fieldwork of a qualitative interview study, in a Flask app."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from fieldwork.config import default_config, environment_overrides, settle_environment
from fieldwork.extensions import csrf, db, limiter, login_manager, migrate
from fieldwork.sampling.models import is_migrated_table

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Long by design: the layers of configuration and then every domain's init_app in
# the order they depend on each other; split, the order would be harder to see.
def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration in layers, extensions, each domain's blueprint and CLI.

    Does no database work; see `fieldwork.cli.prepare_development_database` for the one
    exception, which only `flask run` triggers.
    """
    app = Flask(
        __name__,
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_mapping(environment_overrides())
    else:
        app.config.from_mapping(test_config)
    from fieldwork.cli import launched_by_flask_run

    settle_environment(app.config, development_server=launched_by_flask_run())
    os.makedirs(app.instance_path, exist_ok=True)
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(PROJECT_ROOT, "fieldwork", "migrations"),
        render_as_batch=True,
        # SQLite's search index is made by a migration, not described by a model.
        include_name=is_migrated_table,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from fieldwork import (
        accounts,
        api,
        audit,
        cli,
        core,
        coverage,
        exports,
        home,
        invites,
        messaging,
        outbox,
        pipeline,
        recruitment,
        reminders,
        replies,
        reports,
        sampling,
        scheduling,
    )

    core.init_app(app)
    accounts.init_app(app)
    api.init_app(app)
    sampling.init_app(app)
    audit.init_app(app)
    recruitment.init_app(app)
    invites.init_app(app)
    outbox.init_app(app)
    scheduling.init_app(app)
    reminders.init_app(app)
    replies.init_app(app)
    messaging.init_app(app)
    coverage.init_app(app)
    pipeline.init_app(app)
    reports.init_app(app)
    exports.init_app(app)
    home.init_app(app)
    cli.init_app(app)
    return app
