#!/usr/bin/env bash
# Starts and stops the local stack: the provider simulator and `wrangler dev` (workerd with local
# Durable Objects, D1 and R2). `up` starts only what is not running, so it also restarts a part
# that crashed; `down` stops what `up` started and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_PORT="${WORKER_PORT:-8787}"
SIM_PORT="${SIM_PORT:-8788}"
ASSEMBLER_PORT="${ASSEMBLER_PORT:-8789}"
# Dev renders assemble at preview quality (360p, fast); production defaults to 1080p.
ASSEMBLY_QUALITY="${ASSEMBLY_QUALITY:-preview}"
INSPECTOR_PORT="${INSPECTOR_PORT:-9329}"
PERSIST_DIR="${PERSIST_DIR:-.wrangler/state}"
RUN_DIR="${RUN_DIR:-.stack}"
SIM_BIN="${SIM_BIN:-target/fast/simulator}"
ASSEMBLER_BIN="${ASSEMBLER_BIN:-target/fast/assembler}"
# The dev credential the Worker presents to the assembler (the core's dev_credentials).
DEV_ASSEMBLER_KEY=sim-assembler-key
# Every wrangler command runs the dev environment of wrangler.toml (its top level is production).
WRANGLER_ENV=dev
export WRANGLER_SEND_METRICS=false CI="${CI:-true}"

mkdir -p "$RUN_DIR"
say() { printf '  [stack] %s\n' "$*" >&2; }

alive() { # pidfile -> running?
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

port_taken() { # port -> does something already listen on it?
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Refuses to start a service whose port another process holds: the health check would be
# answered by that process (a stale simulator or assembler of another checkout) and renders
# would run against it.
claim_port() { # name port
  if port_taken "$2"; then
    say "cannot start the $1: 127.0.0.1:$2 is taken by another process (not this stack's):"
    { command -v ss >/dev/null && ss -ltnp "sport = :$2" 2>/dev/null; } >&2 || true
    say "stop it, or choose another port (WORKER_PORT, SIM_PORT, ASSEMBLER_PORT)"
    exit 1
  fi
}

wait_http() { # url seconds
  local url=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.3
  done
  return 1
}

migrate() {
  say "applying D1 migrations and dev seed to $PERSIST_DIR"
  npx wrangler d1 migrations apply DB --local --env "$WRANGLER_ENV" --persist-to "$PERSIST_DIR" >"$RUN_DIR/migrate.log" 2>&1 \
    || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }
  npx wrangler d1 execute DB --local --env "$WRANGLER_ENV" --persist-to "$PERSIST_DIR" --file scripts/seed-dev.sql \
    >>"$RUN_DIR/migrate.log" 2>&1 || { cat "$RUN_DIR/migrate.log" >&2; exit 1; }
}

up() {
  # Every port is checked before anything starts, so a refusal leaves nothing running.
  alive "$RUN_DIR/sim.pid" || claim_port simulator "$SIM_PORT"
  alive "$RUN_DIR/assembler.pid" || claim_port assembler "$ASSEMBLER_PORT"
  alive "$RUN_DIR/worker.pid" || claim_port worker "$WORKER_PORT"
  if alive "$RUN_DIR/sim.pid"; then
    say "simulator already running (pid $(cat "$RUN_DIR/sim.pid"))"
  else
    say "starting simulator on 127.0.0.1:$SIM_PORT"
    setsid "$SIM_BIN" --listen "127.0.0.1:$SIM_PORT" --public-url "http://127.0.0.1:$SIM_PORT" \
      --sora-webhook-url "http://127.0.0.1:$WORKER_PORT/v1/callbacks/sora" \
      >"$RUN_DIR/sim.log" 2>&1 < /dev/null &
    echo $! >"$RUN_DIR/sim.pid"
  fi
  if alive "$RUN_DIR/assembler.pid"; then
    say "assembler already running (pid $(cat "$RUN_DIR/assembler.pid"))"
  else
    say "starting assembler on 127.0.0.1:$ASSEMBLER_PORT"
    ASSEMBLER_LISTEN="127.0.0.1:$ASSEMBLER_PORT" ASSEMBLER_PUBLIC_URL="http://127.0.0.1:$ASSEMBLER_PORT" \
      ASSEMBLER_API_KEY="$DEV_ASSEMBLER_KEY" ASSEMBLER_DATA_DIR="$PERSIST_DIR/assembler" \
      setsid "$ASSEMBLER_BIN" >>"$RUN_DIR/assembler.log" 2>&1 < /dev/null &
    echo $! >"$RUN_DIR/assembler.pid"
  fi
  if alive "$RUN_DIR/worker.pid"; then
    say "worker already running (pid $(cat "$RUN_DIR/worker.pid"))"
  else
    migrate
    say "starting wrangler dev on 127.0.0.1:$WORKER_PORT (state in $PERSIST_DIR)"
    setsid npx wrangler dev --env "$WRANGLER_ENV" --ip 127.0.0.1 --port "$WORKER_PORT" --inspector-port "$INSPECTOR_PORT" \
      --persist-to "$PERSIST_DIR" --show-interactive-dev-session=false \
      --var "SIM_BASE_URL:http://127.0.0.1:$SIM_PORT" --var "PUBLIC_BASE_URL:http://127.0.0.1:$WORKER_PORT" \
      --var "ASSEMBLER_BASE_URL:http://127.0.0.1:$ASSEMBLER_PORT" --var "ASSEMBLY_QUALITY:$ASSEMBLY_QUALITY" \
      >"$RUN_DIR/worker.log" 2>&1 < /dev/null &
    echo $! >"$RUN_DIR/worker.pid"
  fi
  wait_http "http://127.0.0.1:$SIM_PORT/healthz" 30 || { say "simulator did not answer; see $RUN_DIR/sim.log"; tail -20 "$RUN_DIR/sim.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$ASSEMBLER_PORT/healthz" 30 || { say "assembler did not answer; see $RUN_DIR/assembler.log"; tail -20 "$RUN_DIR/assembler.log" >&2; exit 1; }
  wait_http "http://127.0.0.1:$WORKER_PORT/healthz" 180 || { say "worker did not answer; see $RUN_DIR/worker.log"; tail -40 "$RUN_DIR/worker.log" >&2; exit 1; }
  say "up: worker http://127.0.0.1:$WORKER_PORT  simulator http://127.0.0.1:$SIM_PORT  assembler http://127.0.0.1:$ASSEMBLER_PORT"
}

stop() { # name
  local pidfile="$RUN_DIR/$1.pid"
  if alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    # setsid made each part its own process group: stop wrangler together with its workerd.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    say "stopped $1"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up) up ;;
  down) stop worker; stop assembler; stop sim ;;
  status)
    for p in sim assembler worker; do
      if alive "$RUN_DIR/$p.pid"; then echo "$p: running (pid $(cat "$RUN_DIR/$p.pid"))"; else echo "$p: stopped"; fi
    done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
