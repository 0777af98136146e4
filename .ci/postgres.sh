#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the test suite and print its SQLAlchemy URL.
# Installs the Debian package when no server is present. Usage: eval "$(.ci/postgres.sh start DIR)";
# .ci/postgres.sh stop DIR.
set -euo pipefail
action=${1:?start or stop}
dir=${2:?data directory}
port=${LUREWATCH_CI_PG_PORT:-54329}

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    if [ -z "$(bin_dir)" ]; then
        echo "installing postgresql from the Debian packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    fi
    bin=$(bin_dir)
    if [ -z "$bin" ]; then
        echo "no PostgreSQL server available" >&2
        exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
    fi
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >&2
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres lurewatch_test >&2
    echo "export LUREWATCH_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/lurewatch_test"
    ;;
stop)
    bin=$(bin_dir)
    if [ -n "$bin" ] && [ -d "$dir/data" ]; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
    fi
    ;;
esac
