"""Oddlytics Python SDK: `Client(url, key, app_id).track("App Opened")`. Standard library only."""
import logging

from .backoff import Backoff
from .client import Client

__all__ = ["Client", "Backoff"]
__version__ = "0.1.0"

# A library logs; the app decides where logs go.
logging.getLogger("oddlytics").addHandler(logging.NullHandler())
