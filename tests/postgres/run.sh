#!/usr/bin/env bash
# make test-postgres: Debian's PostgreSQL, a throw-away cluster on 127.0.0.1, the database tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "安装 Debian PostgreSQL（apt-get）…"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# initdb refuses to run as root: run the server as the postgres user (or as ourselves)
TMP=$(mktemp -d /tmp/yuqing-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home "$TMP" postgres
  chown postgres "$TMP"
  AS="runuser -u postgres --"
else
  AS=""
fi
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  $AS "$BIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

$AS "$BIN/initdb" -D "$TMP/data" -U yuqing --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
$AS "$BIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') 临时实例：127.0.0.1:$PORT（数据目录 $TMP/data，结束后删除）"

export YUQING_DATABASE_URL="postgresql+psycopg://yuqing@127.0.0.1:$PORT/postgres"
.venv/bin/pytest -q -p no:cacheprovider tests/postgres "$@"
