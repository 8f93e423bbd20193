"""The ASGI app for production servers (`steristock serve` runs Granian on it)."""

import gc

from steristock.app import create_app


def freeze_startup_objects() -> None:
    """Move everything built at startup (the app, routes, signatures, templates, SQLAlchemy
    metadata) out of the garbage collector's sight: a long-lived worker otherwise walks
    those hundreds of thousands of objects on every full collection, for nothing."""
    gc.collect()
    gc.freeze()


app = create_app()
app.on_startup.append(freeze_startup_objects)
