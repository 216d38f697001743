"""The yuqing spiders: one module per site (selectors in crawlers.selectors)."""
