"""Only absolute http(s) post URLs are stored; any other scheme is dropped and the post kept."""

from __future__ import annotations

import pytest

from yuqing.validation import post_from_obj


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>",
                                 "file:///etc/passwd", "//evil.example/x", "weibo.com/1/2", "http://", " "])
def test_other_schemes_are_dropped(url: str) -> None:
    post = post_from_obj({"id": "a", "platform": "weibo", "text": "正文", "url": url})
    assert post.url is None and post.text == "正文"


@pytest.mark.parametrize("url", ["https://weibo.com/1234/AbCd", "http://news.example.cn/a.html?id=3"])
def test_http_urls_are_kept_as_written(url: str) -> None:
    assert post_from_obj({"id": "a", "platform": "weibo", "text": "正文", "url": url}).url == url


def test_masking_cannot_be_switched_off(tmp_path) -> None:
    from yuqing.errors import ConfigError
    from yuqing.settings import load_settings

    path = tmp_path / "c.yaml"
    path.write_text("notify:\n  mask_personal_data: false\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(path)
