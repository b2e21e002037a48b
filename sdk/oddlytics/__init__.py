"""Oddlytics Python SDK: `Client(url, key, app_id).track("App Opened")`. Standard library only."""
from .backoff import Backoff
from .client import Client

__all__ = ["Client", "Backoff"]
__version__ = "0.2.0"

# No NullHandler on the "oddlytics" logger, on purpose: in an app that configures no logging, Python's
# last-resort handler then prints our warnings and errors (persistence off, a refused key, dropped
# events) to stderr instead of losing them. An app that configures logging decides as usual.
