"""Fuzzed input for the readers of the foundation: JSON Lines (ingest, and classify's line reader),
the keyword language and `yuqing search`, and the settings loader.

Each test asserts that a malformed input gets its Chinese reason (a LineError naming the line, a
QuerySyntaxError naming the position, a ConfigError naming the file) and never a traceback, and
that no good line is lost. A fixed corpus (deterministic) plus Hypothesis; the counts — inputs
tried, crashes, good lines kept — are printed (run with -s to see them).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from yuqing.db.models import PostRow
from yuqing.errors import ConfigError, YuqingError
from yuqing.ingest import ingest_stream
from yuqing.query import QuerySyntaxError, parse
from yuqing.runtime import Runtime
from yuqing.settings import DEFAULT_CONFIG, load_settings
from yuqing.validation import LineError, LineRejected, loads_line, read_jsonl

CLI = [sys.executable, "-m", "app.cli"]


def _good(i: int) -> bytes:
    return json.dumps({"id": f"good:{i}", "platform": "weibo", "text": f"第{i}条正常帖子，妇联介入"},
                      ensure_ascii=False).encode()


def _obj(**kw: object) -> dict:
    return {"id": "bad", "platform": "weibo", "text": "t", **kw}


def _line(**kw: object) -> bytes:
    return json.dumps(_obj(**kw), ensure_ascii=False).encode()


# Malformed lines (bytes, as they are in a file). Each must be refused with a reason, except the ones
# in CLEANED, which are kept with their bad characters replaced.
BAD_LINES: list[bytes] = [
    b"{not json", b"[1, 2]", b'"a string"', b"42", b"null", b"true", b"{", b"}", b"{}", b"{,}",
    b'{"id": "x"}', b'{"platform": "weibo", "text": "no id"}', b'{"id": "", "platform": "w", "text": "t"}',
    b'{"id": 5, "platform": "w", "text": "t"}', b'{"id": "x", "platform": null, "text": "t"}',
    b"\xff\xfe{}", b'{"id": "x\xff", "platform": "w", "text": "t"}', b"\xc0\x80", b"\xed\xa0\x80",
    b'{"id": "x", "platform": "w", "text": "t"} trailing', b'{"id": "x", "platform": "w", "text": "t"}{}',
    b'{"id": "x", "platform": "w", "text": NaN}', b'{"id": "x", "platform": "w", "text": "t", "likes": Infinity}',
    b'{"id": "x", "platform": "w", "text": "t", "likes": -Infinity}', b'{"id": "x", "platform": "w", "text": "t", "v": 1e999}',
    _line(likes=-1), _line(reposts="很多"), _line(reposts=1.5), _line(author_verified="yes"), _line(keywords="家暴"),
    _line(keywords=[1, 2]), _line(url=5), _line(title=["x"]),
    b'{"id": "x", "platform": "w", "text": "t", "reposts": ' + str(2**63).encode() + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "reposts": ' + str(2**64).encode() + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "reposts": ' + b"9" * 5000 + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "x": ' + b"9" * 4301 + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "x": -' + b"9" * 30 + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "likes": ' + str(2**31).encode() + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "x": ' + b"1" * 400 + b".5}",
    b'{"id": "x", "platform": "w", "text": "t", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"id": "x", "platform": "w", "text": "t", "x": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}",
    b"[" * 50_000, b"{" * 50_000,
    _line(published_at="9999-12-31T23:59:59-23:59"), _line(published_at="0001-01-01T00:00:00+08:00"),
    _line(published_at="0001-01-01T00:00:00"), _line(published_at="99999-01-01"), _line(published_at="昨天"),
    _line(published_at="2026-13-45T00:00:00"), _line(fetched_at="1800-01-01T00:00:00+08:00"),
    _line(published_at="2026-03-02T25:00:00"), _line(published_at=12345), _line(fetched_at=["2026"]),
    _line(published_at="2026-03-02T09:15:00+99:00"), _line(published_at="9999-12-31T23:59:59+14:00"),
    _line(id="x" * 300), _line(platform="p" * 100), _line(author="a" * 1000),
]
CLEANED: list[bytes] = [  # kept, with U+FFFD instead of the bad characters
    b'{"id": "s:1", "platform": "weibo", "text": "lone \\ud800 surrogate"}',
    b'{"id": "s:2", "platform": "weibo", "text": "lone low \\udfff"}',
    b'{"id": "s:3", "platform": "weibo", "text": "nul \\u0000 char", "title": "\\ud83d"}',
    b'{"id": "s:4", "platform": "weibo", "text": "t", "extra\\ud800": {"k": ["\\udc00"]}}',
    b'{"id": "s:5", "platform": "weibo", "text": "pair \\ud83d\\ude00 ok"}',
]


def _corpus_file(path: Path) -> tuple[int, int]:
    """Good lines between every bad one, a BOM on line 1, CRLF, CR, and blank lines."""
    parts: list[bytes] = [b"\xef\xbb\xbf" + _good(0)]
    goods = 1
    for i, bad in enumerate(BAD_LINES + CLEANED, start=1):
        parts.append(bad)
        parts.append(_good(i) + (b"\r" if i % 3 == 0 else b""))
        goods += 1
        if i % 7 == 0:
            parts.append(b"   ")
    path.write_bytes(b"\n".join(parts[:-1]) + b"\r\n" + parts[-1] + b"\r" + _good(9999) + b"\n")
    return len(BAD_LINES), goods + 1


def test_every_bad_line_alone_is_a_reason_never_an_exception() -> None:
    crashes = 0
    for raw in BAD_LINES:
        out = list(read_jsonl(io.BytesIO(raw + b"\n")))
        assert len(out) == 1
        number, _obj_, item = out[0]
        assert number == 1 and isinstance(item, LineError), (raw[:80], item)
        assert item.reason and str(item).startswith("line 1: ")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in item.reason), item.reason  # a Chinese reason
    for raw in CLEANED:
        (_, obj, post), = read_jsonl(io.BytesIO(raw))
        assert not isinstance(post, LineError), post
        assert "\ufffd" in json.dumps(obj, ensure_ascii=False) or "😀" in post.text
        json.dumps(obj, ensure_ascii=False).encode("utf-8")  # safe to write back (classify's output)
    print(f"\n[fuzz jsonl lines] inputs tried: {len(BAD_LINES) + len(CLEANED)}, crashes: {crashes}")


def test_classify_line_reader_gets_the_same_per_line_result(tmp_path: Path) -> None:
    """`yuqing classify` opens its input as text (errors='replace') and reads it with read_jsonl: the
    same reasons and line numbers as a binary read, invalid bytes included."""
    path = tmp_path / "corpus.jsonl"
    _corpus_file(path)
    binary = [(n, type(i).__name__, str(i) if isinstance(i, LineError) else getattr(i, "id", None))
              for n, _, i in read_jsonl(io.BytesIO(path.read_bytes()))]
    with path.open(encoding="utf-8", errors="replace") as fh:  # exactly as classifier/cli.py opens it
        text = [(n, type(i).__name__, str(i) if isinstance(i, LineError) else getattr(i, "id", None))
                for n, _, i in read_jsonl(fh)]
    assert text == binary
    assert any("不是 UTF-8 编码" in r for _, kind, r in binary if kind == "LineError")


def test_ingest_keeps_every_good_line(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    bad, goods = _corpus_file(path)
    with path.open(encoding="utf-8") as fh:  # as `yuqing ingest` opens it
        report = ingest_stream(runtime, fh)
    with runtime.session() as s:
        ids = set(s.scalars(select(PostRow.id)))
    kept = {f"good:{i}" for i in range(len(BAD_LINES) + len(CLEANED) + 1)} | {"good:9999"}
    assert kept <= ids and len(kept) == goods
    assert {f"s:{i}" for i in range(1, 6)} <= ids
    assert len(report.errors) == bad, [str(e) for e in report.errors]
    numbers = [e.line for e in report.errors]
    assert numbers == sorted(numbers) and len(set(numbers)) == bad
    with runtime.session() as s:
        assert "\ufffd" in s.get(PostRow, "s:1").text
    print(f"\n[fuzz ingest] inputs tried: {bad + len(CLEANED)}, crashes: 0, "
          f"good lines kept: {len(kept)}/{goods}, rejected: {len(report.errors)}")


def test_ingest_cli_exit_2_and_line_reasons(runtime: Runtime, config_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    bad, goods = _corpus_file(path)
    proc = subprocess.run([*CLI, "--config", str(config_file), "ingest", str(path)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    reasons = [line for line in proc.stderr.splitlines() if line.startswith("line ")]
    assert len(reasons) == bad
    assert f"新增 {goods + len(CLEANED)} 条" in proc.stdout
    print(f"\n[fuzz ingest cli] inputs tried: {bad + len(CLEANED)}, crashes: 0, good lines kept: {goods}/{goods}")


# --- the keyword language --------------------------------------------------------------------------

BAD_QUERIES = [
    "(" * 900 + "家暴" + ")" * 900, "(" * 400 + "a" + ")" * 400, "(" * 33 + "a" + ")" * 33, "NOT " * 1000 + "x",
    "-" * 1000 + "x", "a " + "NOT " * 4 + "b", "x" * 1001, "a " * 201, "(" * 5000, ")" * 5000, '"' * 999, "a AND",
    "OR", "()", "(a", "a)", "\x00", "a\ud800", "NOT", "-家暴", "家暴 NOT", "&", "|", "a && b || ", "（（（",
    "“未闭合", "a | | b", "(a OR (b AND (c", "NOT (NOT (NOT (NOT (NOT x))))", "\"\"", "-(a)",
]


def test_bad_queries_are_one_line_errors_with_a_position() -> None:
    for query in BAD_QUERIES:
        with pytest.raises(QuerySyntaxError) as err:
            parse(query)
        message = str(err.value)
        assert len(message.splitlines()) == 1 and "个字符处" in message and err.value.exit_code == 2
        assert 0 <= err.value.position <= len(query)
    assert str(parse("(" * 32 + "家暴" + ")" * 32)) == "家暴"  # the limit itself is fine
    assert str(parse("NOT NOT NOT 家暴 妇联")) == "(NOT NOT NOT 家暴 AND 妇联)"
    print(f"\n[fuzz queries] inputs tried: {len(BAD_QUERIES)}, crashes: 0")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list('()"-|& 家暴妇联ANDORNOT（）｜＆“”－\t\n\x00\ud800')), max_size=1200))
def test_parse_never_raises_anything_else(query: str) -> None:
    try:
        parse(query)
    except QuerySyntaxError as exc:
        assert len(str(exc).splitlines()) == 1


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                              lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=30)
                 .map(lambda v: json.dumps(v, allow_nan=True).encode())))
def test_loads_line_never_raises_anything_else(raw: bytes) -> None:
    try:
        loads_line(raw)
    except LineRejected as exc:
        assert str(exc)


# --- `yuqing search`: every malformed query or option is one Chinese line, exit 2 ------------------

SEARCH_ARGS = [
    ["(" * 900 + "家暴" + ")" * 900], ["NOT " * 50 + "家暴"], ["-宣传周"], ["(家暴"], ["家暴", "--limit", "-1"],
    ["家暴", "--limit", "99999999999999999999"], ["家暴", "--limit", "abc"], ["家暴", "--since", "99999-01-01"],
    ["家暴", "--since", "0001-01-01"], ["家暴", "--until", "9999-12-31T23:59:59-23:59"], ["家暴", "--sort", "x"],
    ["家暴", "--interval", "year"], ["家暴", "--severity-min", "9"], ["家暴", "--incident", "1" + "0" * 23],
    ["家暴", "--category", "bogus"], ["家暴", "--since", "2026-03-02", "--until", "2026-03-01"], ["x" * 2000],
    ["家暴", "--incident", "-5"], ["家暴", "--severity-min", "１"],
]


def test_search_options_and_queries_are_usage_errors(runtime: Runtime) -> None:
    """In process, every case (no index is touched: all are refused before)."""
    from search.cli import search

    defaults = dict(category=None, severity_min=None, platform=None, since=None, until=None, limit="20",
                    as_json=False, sort="time", author=None, scheme=None, incident=None, interval="day")
    option = {"--limit": "limit", "--since": "since", "--until": "until", "--sort": "sort", "--interval": "interval",
              "--severity-min": "severity_min", "--incident": "incident", "--category": "category"}
    for args in SEARCH_ARGS:
        words, kwargs, i = [], dict(defaults), 0
        while i < len(args):
            if args[i] in option:
                kwargs[option[args[i]]] = [args[i + 1]] if args[i] == "--category" else args[i + 1]
                i += 2
            else:
                words.append(args[i])
                i += 1
        with pytest.raises(YuqingError) as err:
            search(words, **kwargs)
        assert err.value.exit_code == 2, args
        assert len(str(err.value).splitlines()) == 1 and any("\u4e00" <= c <= "\u9fff" for c in str(err.value))
    print(f"\n[fuzz search options] inputs tried: {len(SEARCH_ARGS)}, crashes: 0")


@pytest.mark.parametrize("args", [["家暴", "-宣传周", "--json"], ["(" * 900 + "家暴" + ")" * 900]])
def test_search_cli_never_prints_a_traceback(runtime: Runtime, config_file: Path, args: list[str]) -> None:
    proc = subprocess.run([*CLI, "--config", str(config_file), "search", *args], capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    if args[1:2] == ["-宣传周"]:  # a documented query that starts with "-": searched, not an unknown option
        assert proc.returncode in (0, 1) and "No such option" not in proc.stderr
        if proc.returncode == 0:
            assert json.loads(proc.stdout)["total"] == 0
    else:
        assert proc.returncode == 2 and "错误" in proc.stderr


# --- the settings loader ---------------------------------------------------------------------------

def _config_corpus() -> list[tuple[str, bytes]]:
    base = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))

    def with_(**kw: object) -> bytes:
        return yaml.safe_dump({**base, **kw}, allow_unicode=True).encode()

    return [
        ("tab", b"web:\n\thost: x\n"), ("unclosed", b"web: [1, 2\n"), ("colon", b"a: b: c\n"), ("list", b"- 1\n- 2\n"),
        ("scalar", b"hello\n"), ("number", b"42\n"), ("gbk", "web: 中文".encode("gbk")), ("binary", b"\x00\xff\xfe"),
        ("bom", b"\xef\xbb\xbfweb:\n  port: 1\n"), ("deep", b"a: " + b"[" * 200 + b"]" * 200 + b"\n"),
        ("deep-map", b"".join(b"  " * i + b"k:\n" for i in range(300))), ("anchor", b"a: &x [1]\nb: *y\n"),
        ("dup", b"web: 1\nweb: 2\n"), ("tag", b"web: !!python/object:os.system x\n"), ("bad-unicode", b'a: "\\ud800"\n'),
        ("port", with_(web={"port": 99999999})), ("port-str", with_(web={"port": "八千"})),
        ("proxies", with_(web={"trusted_proxies": ["not-an-ip"]})), ("proxies-type", with_(web={"trusted_proxies": 5})),
        ("unknown", with_(bogus=1)), ("web-unknown", with_(web={"hots": "x"})), ("schemes", with_(keyword_schemes=5)),
        ("channels", with_(channels=[{"name": 1}])), ("null-web", with_(web=None)), ("data-dir", with_(data_dir=[1])),
        ("huge-int", with_(web={"port": 10**30})), ("nan", b"web:\n  login_lock_minutes: .nan\n"),
        ("empty-key", b": 1\n"), ("only-comment", b"# nothing\n"),
    ]


def test_broken_config_files_name_the_file_never_a_traceback(tmp_path: Path) -> None:
    tried, crashes = 0, []
    for name, content in _config_corpus():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(content)
        tried += 1
        try:
            load_settings(path, environ={})
        except ConfigError as exc:
            assert str(path) in str(exc) or exc.file == str(path), (name, str(exc)[:200])
        except Exception as exc:  # noqa: BLE001 - the point: nothing but ConfigError
            crashes.append((name, repr(exc)[:200]))
    print(f"\n[fuzz config] inputs tried: {tried}, crashes: {len(crashes)} {crashes}")
    assert not crashes


def test_deeply_nested_config_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_bytes(b"a: " + b"[" * 1000 + b"]" * 1000 + b"\n")
    with pytest.raises(ConfigError):
        load_settings(path, environ={})


def test_ingest_batch_refused_by_the_database_is_retried_line_by_line(runtime: Runtime) -> None:
    from sqlalchemy import text

    with runtime.session() as s:  # the real database refuses one row (as PostgreSQL would a bad value)
        s.execute(text("CREATE TRIGGER refuse_one BEFORE INSERT ON posts WHEN NEW.id = 'good:3' "
                       "BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END;"))
    stream = io.BytesIO(b"\n".join(_good(i) for i in range(8)) + b"\n")
    report = ingest_stream(runtime, stream)
    assert [str(e) for e in report.errors] == ["line 4: 数据库拒绝写入: refused by trigger"]
    with runtime.session() as s:
        assert sorted(s.scalars(select(PostRow.id))) == [f"good:{i}" for i in range(8) if i != 3]


def test_search_error_is_printed_as_one_plain_line(runtime: Runtime, config_file: Path) -> None:
    for query in ("(家暴 [/x]", "(家暴 AND 妇联 OR 很长的一段检索式用来测试错误信息是否会被折成好几行显示出来"):
        proc = subprocess.run([*CLI, "--config", str(config_file), "search", query], capture_output=True,
                              text=True, timeout=120)
        assert "Traceback" not in proc.stderr and proc.returncode == 2
        assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1, proc.stderr


@pytest.mark.slow  # loads the real model (torch): about 10 s on a quiet machine
def test_classify_cli_skips_only_the_bad_lines(tmp_path: Path) -> None:
    """`yuqing classify` end to end on the whole corpus, with the shipped model (no database)."""
    from classifier.convert import prepare
    from tests.conftest import write_config
    from yuqing.settings import ROOT

    prepare(ROOT / "var" / "models" / "e5-small")  # idempotent, as the classifier tests do
    config = write_config(tmp_path, {"data_dir": str(ROOT / "var")})
    src, dst = tmp_path / "corpus.jsonl", tmp_path / "out.jsonl"
    bad, goods = _corpus_file(src)
    proc = subprocess.run([*CLI, "--config", str(config), "classify", "--input", str(src), "--output", str(dst)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len([line for line in proc.stderr.splitlines() if line.startswith("line ")]) == bad
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert len(out) == goods + len(CLEANED)
    assert all(o["category"] in {"policy", "rights", "image", "work", "emergency", "none"} for o in out)
    assert {f"good:{i}" for i in range(len(BAD_LINES) + len(CLEANED) + 1)} <= {o["id"] for o in out}
    print(f"\n[fuzz classify cli] inputs tried: {bad + len(CLEANED)}, crashes: 0, good lines kept: {len(out)}")
