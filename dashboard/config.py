"""Where the dashboard finds its worker (ODDLYTICS_API_URL / ODDLYTICS_API_KEY) and, optionally, the zone
to show times in (ODDLYTICS_TIMEZONE, else the viewer's browser): environment first, then secrets."""
from dataclasses import dataclass, field

URL_NAME = "ODDLYTICS_API_URL"
KEY_NAME = "ODDLYTICS_API_KEY"
TIMEZONE_NAME = "ODDLYTICS_TIMEZONE"


@dataclass(frozen=True)
class Settings:
    url: str
    key: str = field(repr=False)  # never in a repr, a log line or an error message
    timezone: str = ""  # an IANA name that overrides the browser's zone; empty: the browser's


def resolve(environ, secrets):
    """Settings from the environment, else from secrets (a mapping); None when either is missing."""
    def pick(name):
        value = environ.get(name) or secrets.get(name) or ""
        return str(value).strip()

    url, key = pick(URL_NAME).rstrip("/"), pick(KEY_NAME)
    if not url or not key:
        return None
    return Settings(url=url, key=key, timezone=pick(TIMEZONE_NAME))
