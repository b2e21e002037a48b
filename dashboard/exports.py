"""Raw events -> table rows and CSV. Pure."""
import csv
import io
import json

CSV_COLUMNS = ["timestamp", "event", "app_id", "session_id", "user_id", "platform", "app_version", "country",
               "properties", "event_id", "received_at"]


def properties_text(properties):
    return json.dumps(properties, ensure_ascii=False, sort_keys=True) if properties else ""


def events_csv(events):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow({**{k: "" if event.get(k) is None else event.get(k) for k in CSV_COLUMNS},
                         "properties": properties_text(event.get("properties"))})
    return out.getvalue()
