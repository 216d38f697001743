"""Post index: one interface (`PostIndex`), an embedded tantivy backend (default) and Elasticsearch.

    index = get_index(settings)              # reader
    index = get_index(settings, writer=True) # the pipeline worker / reindex own the writer
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.types import Hit, IndexError_, PostIndex, SearchRequest, SearchResult

if TYPE_CHECKING:
    from yuqing.settings import Settings

__all__ = ["Hit", "IndexError_", "PostIndex", "SearchRequest", "SearchResult", "get_index"]


def get_index(settings: Settings, writer: bool = False) -> PostIndex:
    """The configured backend (``index.backend``): ``embedded`` (tantivy) or ``elasticsearch``."""
    if settings.index.backend == "elasticsearch":
        from search.elastic import ElasticIndex

        return ElasticIndex.from_settings(settings)
    from search.embedded import EmbeddedIndex

    return EmbeddedIndex(settings.data_file(settings.index.embedded_dir), writer=writer)
