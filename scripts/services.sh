#!/usr/bin/env bash
# Starts the services the test suite talks to (PostgreSQL on 127.0.0.1:5432, Redis on
# 127.0.0.1:6379) when they are installed but not running. Does nothing when they run.
set -u
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || echo "warning: could not start PostgreSQL" >&2
  fi
fi
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || echo "warning: could not start Redis" >&2
  fi
fi
# Wait briefly for both to answer.
for _ in $(seq 1 50); do
  pg_ok=1; redis_ok=1
  command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q && pg_ok=0
  command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && redis_ok=0
  [ "$pg_ok" = 1 ] && [ "$redis_ok" = 1 ] && exit 0
  sleep 0.2
done
exit 0
