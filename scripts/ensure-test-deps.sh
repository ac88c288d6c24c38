#!/usr/bin/env bash
# What the tests need beyond the Python packages: a reachable PostgreSQL and Debian's Chromium.
set -euo pipefail
PGHOST=${LOYALTY_PG_HOST:-127.0.0.1}; PGPORT=${LOYALTY_PG_PORT:-5432}
if ! (exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null; then
  echo "PostgreSQL is not reachable at $PGHOST:$PGPORT. The tests need it (they fail, not skip, without it)." >&2
  echo "Start one: 'pg_ctlcluster 15 main start' (Debian), or 'docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16'." >&2
  exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the headless-browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || {
      echo "could not install chromium: the Data Docs / audit report browser tests will fail" >&2; }
  else
    echo "chromium is missing: install it (apt-get install chromium) for the browser tests" >&2
  fi
fi
