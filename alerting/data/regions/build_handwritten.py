"""handwritten.txt (posts written one by one, truth as 市|县 names) → handwritten.jsonl.

Run: .venv/bin/python alerting/data/regions/build_handwritten.py
The truth's codes come from the gazetteer by exact full names (never from the resolver); a name
that is not exactly one county of that city is an error naming the line.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from yuqing import places as gz  # noqa: E402


def truth_of(spec: str, line_no: int) -> dict | None:
    if spec == "-":
        return None
    g = gz.gazetteer()
    city, county = spec.split("|")
    cities = [c for c in g.full_names.get(city, ()) if gz._level(c) in ("city", "province")]
    if city == county:  # a city without counties (东莞市, 中山市) or a 省直辖 county-level city
        codes = g.full_names.get(county, ())
    else:
        codes = tuple(c for c in g.full_names.get(county, ()) if gz._level(c) == "county"
                      and any(c[:4] == x[:4] or (x[2:] == "0" * 10 and c[:2] == x[:2]) for x in cities))
    if len(codes) != 1:
        raise SystemExit(f"handwritten.txt 第 {line_no} 行：{spec} 不是该市唯一的一个县级单位")
    code = codes[0]
    city_code = code[:4] + "0" * 8
    return {"county_code": code, "county_name": g.names[code], "city_code": city_code,
            "city_name": g.names.get(city_code, g.names.get(code[:2] + "0" * 10, ""))}


def main() -> None:
    out = []
    for n, line in enumerate((HERE / "handwritten.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        keys = dict(p.split("=", 1) for p in parts[2:])
        pid = f"hand-{n:04d}"
        split = "heldout" if int(hashlib.sha256(pid.encode()).hexdigest(), 16) % 10 < 3 else "tune"
        post = {"id": pid, "platform": "weibo", "text": parts[1], "truth": truth_of(parts[0], n),
                "variety": ["handwritten"], "split": split, **keys}
        out.append(post)
    (HERE / "handwritten.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in out),
                                            encoding="utf-8")
    print(len(out), "posts;", sum(p["split"] == "heldout" for p in out), "held out")


if __name__ == "__main__":
    main()
