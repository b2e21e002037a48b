"""Raw events -> table rows and CSV. Pure."""
import csv
import io
import json

from dashboard import periods

# The Events table's order, then what the table leaves out.
TABLE_COLUMNS = ["timestamp", "event", "app_id", "user_id", "session_id", "platform", "app_version", "country",
                 "properties"]
CSV_COLUMNS = [*TABLE_COLUMNS, "event_id", "received_at"]
TIME_COLUMNS = ("timestamp", "received_at")
# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def properties_text(properties):
    return json.dumps(properties, ensure_ascii=False, sort_keys=True) if properties else ""


def inert_cell(value):
    """Event data is hostile: a leading quote makes a spreadsheet show a would-be formula as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_time_text(text, tz):
    """The worker's UTC instant as ISO 8601 in the viewer's zone, with its offset (unambiguous)."""
    moment = periods.parse_time(text, tz)
    return moment.isoformat(timespec="milliseconds") if moment else ""


def csv_row(event, tz):
    row = {name: inert_cell(event.get(name)) for name in CSV_COLUMNS}
    row["properties"] = inert_cell(properties_text(event.get("properties")))
    for name in TIME_COLUMNS:
        row[name] = local_time_text(event.get(name), tz)
    return row


def csv_header(tz):
    return [f"{name} ({tz})" if name in TIME_COLUMNS else name for name in CSV_COLUMNS]


def events_csv(events, tz="UTC"):
    out = io.StringIO()
    # RFC 4180 line ends: the writer then also quotes a field holding a bare "\r", which would
    # otherwise split the row in a spreadsheet.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(tz))
    for event in events:
        row = csv_row(event, tz)
        writer.writerow([row[name] for name in CSV_COLUMNS])
    return out.getvalue()
