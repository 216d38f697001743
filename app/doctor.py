"""`yuqing doctor`: every check says what is wrong and how to fix it."""

from __future__ import annotations

from yuqing import hooks
from yuqing.errors import ConfigError
from yuqing.hooks import CheckResult
from yuqing.runtime import Runtime
from yuqing.settings import config_path, secret


def _check_database(rt: Runtime) -> list[CheckResult]:
    from sqlalchemy.exc import SQLAlchemyError

    from yuqing.db.migrate import current_revision, head_revision

    url = rt.engine.url.render_as_string(hide_password=True)
    try:
        current = current_revision(rt.engine)
    except SQLAlchemyError as exc:
        return [CheckResult("数据库", False, f"无法连接 {url}: {exc.__class__.__name__}。请检查 database_url / YUQING_DATABASE_URL。")]
    head = head_revision(rt.engine)
    if current is None:
        return [CheckResult("数据库", False, f"{url} 尚未初始化，请运行 `yuqing init`。")]
    if current != head:
        return [CheckResult("数据库", False, f"{url} 版本 {current}，最新 {head}：请运行 `yuqing init` 升级。")]
    return [CheckResult("数据库", True, f"{url}（版本 {current}）")]


def _check_schemes(rt: Runtime) -> list[CheckResult]:
    from yuqing.query import QuerySyntaxError, SchemeMatcher

    schemes = rt.settings.keyword_schemes
    if not schemes:
        return [CheckResult("关键词方案", True, "未配置关键词方案，爬虫将需要 -a keywords=…", warning=True)]
    try:
        SchemeMatcher.from_schemes(schemes)
    except QuerySyntaxError as exc:
        return [CheckResult("关键词方案", False, str(exc))]
    return [CheckResult("关键词方案", True, f"{len(schemes)} 个方案")]


def _check_channel_secrets(rt: Runtime) -> list[CheckResult]:
    out = []
    for ch in rt.settings.channels:
        if not ch.enabled:
            continue
        missing = [name for name in (ch.token_env, ch.webhook_env) if name and not secret(name, rt.settings)]
        if missing:
            out.append(CheckResult(f"告警渠道 {ch.name}", False,
                                   f"缺少密钥环境变量 {', '.join(missing)}：请在环境变量或未纳入版本库的 config/secrets.env 中设置，"
                                   "或在配置中把该渠道设为 enabled: false。"))
    return out


def run_checks(config: str | None = None) -> list[CheckResult]:
    path = config_path(config)
    try:
        rt = Runtime.load(config)
    except ConfigError as exc:
        return [CheckResult("配置文件", False, str(exc))]
    results = [CheckResult("配置文件", True, str(path))]
    for check in [_check_database, _check_schemes, _check_channel_secrets, *hooks.DOCTOR_CHECKS]:
        try:
            results.extend(check(rt))
        except Exception as exc:  # a broken check must not hide the others
            results.append(CheckResult(getattr(check, "__name__", "检查"), False, f"检查时出错: {exc}"))
    rt.close()
    return results
