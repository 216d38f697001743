"""Aggregation requests and result shaping shared by both backends.

Both engines take the Elasticsearch aggregation JSON (tantivy implements the same dialect), so
the request is built once; buckets are reshaped into one result format:
``{"histogram": [{"key": ISO (Asia/Shanghai), "count"}], "terms": {field: [{"key", "count"}]},
"severity": {"0": n, …}}``. Days and weeks (Monday) start at 00:00 Asia/Shanghai.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from search.types import SearchRequest
from yuqing.timeutil import to_shanghai

# fixed intervals with the offset that puts bucket starts at local midnight (UTC+8, no DST);
# weeks: 1970-01-01 was a Thursday, Monday 00:00 +08:00 is 88 hours after the epoch.
INTERVALS = {"hour": ("1h", "0h"), "day": ("1d", "-8h"), "week": ("7d", "88h")}
HISTOGRAM = "histogram"
SEVERITY = "severity"


def agg_request(req: SearchRequest, field_of: dict[str, str]) -> dict[str, Any]:
    """``field_of`` maps a logical field (platform, author …) to the engine's aggregatable field."""
    aggs: dict[str, Any] = {}
    if req.histogram:
        interval, offset = INTERVALS[req.histogram]
        aggs[HISTOGRAM] = {"date_histogram": {"field": field_of["published_at"], "fixed_interval": interval,
                                              "offset": offset, "min_doc_count": 1}}
    for name in req.terms:
        aggs[f"terms_{name}"] = {"terms": {"field": field_of[name], "size": req.terms_size}}
    if req.severity_counts:
        aggs[SEVERITY] = {"terms": {"field": field_of["severity"], "size": 10}}
    return aggs


def _key_ms(bucket: dict[str, Any]) -> int:
    return int(bucket["key"])


def shape(req: SearchRequest, raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if req.histogram:
        buckets = raw.get(HISTOGRAM, {}).get("buckets", [])
        out["histogram"] = [
            {"key": to_shanghai(datetime.fromtimestamp(_key_ms(b) / 1000, tz=UTC)).isoformat(),
             "count": int(b["doc_count"])}
            for b in buckets if int(b["doc_count"]) > 0
        ]
    if req.terms:
        out["terms"] = {}
        for name in req.terms:
            buckets = raw.get(f"terms_{name}", {}).get("buckets", [])
            items = [{"key": str(b["key"]), "count": int(b["doc_count"])} for b in buckets if b["doc_count"]]
            items.sort(key=lambda b: (-b["count"], b["key"]))
            out["terms"][name] = items
    if req.severity_counts:
        counts = {str(level): 0 for level in range(5)}
        for b in raw.get(SEVERITY, {}).get("buckets", []):
            counts[str(int(b["key"]))] = int(b["doc_count"])
        out["severity"] = counts
    return out
