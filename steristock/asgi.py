"""The ASGI app for production servers (`steristock serve` runs Granian on it)."""

from steristock.app import create_app

app = create_app()
