"""Scrapy settings of the yuqing crawlers (per-source delay, concurrency, cookies and proxies
come from the `sources:` section of config/yuqing.yaml, applied by the spiders)."""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

ROBOTSTXT_OBEY = False  # search result pages; politeness comes from delays and back-off
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0 Safari/537.36")
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9",
}
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# politeness (overridden per source from config/yuqing.yaml, and by -s on the command line)
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around the delay
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30

# retries with exponential back-off (see crawlers.middlewares.BackoffMiddleware)
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
YUQING_RETRY_BACKOFF_BASE = 2.0  # seconds; retry n waits base * 2**(n-1)
YUQING_RETRY_BACKOFF_MAX = 60.0

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.SourceProxyMiddleware": 350,  # before HttpProxyMiddleware (750)
    "crawlers.middlewares.SourceCookieMiddleware": 710,  # after CookiesMiddleware (700)
    "crawlers.middlewares.BackoffMiddleware": 560,
    "crawlers.middlewares.BanDetectionMiddleware": 650,  # sees raw 3xx before RedirectMiddleware
}
# acks the scrapy-redis lease of a page once its callback is done (no-op outside distributed
# runs: see crawlers.distributed)
SPIDER_MIDDLEWARES = {
    "crawlers.distributed.LeaseAckMiddleware": 10,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.NormalizePipeline": 100,
    "crawlers.pipelines.ValidatePipeline": 200,
    "crawlers.pipelines.KeywordPipeline": 300,
    "crawlers.pipelines.DedupePipeline": 400,
    "crawlers.pipelines.StorePipeline": 500,
}
EXTENSIONS = {
    "crawlers.extensions.RunRecorder": 500,
}

# yuqing: storage of items ("auto": when the configured database has been initialised;
# "1": required; "0": off, plain -O runs), batch size, ban back-off
YUQING_STORE = "auto"
YUQING_STORE_BATCH = 100
YUQING_BAN_BACKOFF_MINUTES = 30  # first pause; doubles at each consecutive ban
YUQING_BAN_BACKOFF_MAX_MINUTES = 24 * 60
YUQING_NOW = None  # ISO time to use as crawl time (tests); default: the real clock
YUQING_SUMMARY_FILE = None  # where RunRecorder writes the run summary (JSON) for the runner
YUQING_NEAR_DUP_THRESHOLD = 0.8
REMOTE_CONTROL_ENABLED = False  # no listening socket in a crawl process
TELNETCONSOLE_ENABLED = False
