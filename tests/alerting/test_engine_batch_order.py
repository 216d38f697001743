"""A repost that arrives in the same batch as (and before) its original joins the original's incident."""

from __future__ import annotations

from sqlalchemy import select

from app.worker import process
from yuqing.db.models import IncidentPostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts


def test_repost_before_original_in_one_batch_joins_it(runtime: Runtime) -> None:
    now = runtime.clock.now()
    posts = [
        Post.model_validate({"id": "weibo:A", "platform": "weibo", "text": "等官方回应//@热心网友:太过分了",
                             "repost_of": "weibo:Z", "category": "work", "severity": 1,
                             "published_at": now.isoformat()}),
        Post.model_validate({"id": "weibo:Z", "platform": "weibo", "category": "rights", "severity": 2,
                             "text": "临川县一名女子遭丈夫长期家暴，求助村妇联无果，邻居拍下视频",
                             "published_at": now.isoformat()}),
    ]
    with runtime.session() as s:
        store_posts(s, posts, now)
    report = process(runtime)
    assert report.done == 2
    with runtime.session() as s:
        links = {row.post_id: (row.incident_id, row.reason) for row in s.scalars(select(IncidentPostRow))}
    assert links["weibo:A"][0] == links["weibo:Z"][0]
    assert links["weibo:A"][1] == "repost"
