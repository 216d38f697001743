"""Reports (日报 / 周报 / 月报 / 专报) from the database, rendered as HTML, Markdown or .docx."""

from reports.build import REPORT_KINDS, build, build_data

__all__ = ["REPORT_KINDS", "build", "build_data"]
