#!/usr/bin/env bash
# README command 1: set up, start the Ollama simulator and the TaskMaster app under
# opentelemetry-instrument (on its embedded defaults), send a little traffic, show where the
# telemetry is, then stop everything. `--keep` leaves the two processes running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

keep=0
for arg in "$@"; do
    case "$arg" in
        --keep) keep=1 ;;
        -h | --help)
            sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *) echo "unknown argument: $arg (try --keep)" >&2; exit 2 ;;
    esac
done

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/setup.sh

py=.venv/bin/python
logs=$(mktemp -d "${TMPDIR:-/tmp}/taskmaster-demo.XXXXXX")
pids=()

stop_all() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
on_exit() {
    local status=$?
    if [ "$keep" -eq 0 ] || [ "$status" -ne 0 ]; then
        stop_all
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pick_port() { if port_in_use "$1"; then free_port; else echo "$1"; fi; }
wait_http() { # url, seconds, pid
    local deadline=$((SECONDS + $2))
    until "$py" -c 'import sys, httpx; httpx.get(sys.argv[1], timeout=1).raise_for_status()' \
        "$1" 2>/dev/null; do
        kill -0 "$3" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.3
    done
}

# Embedded defaults unless a port is already taken by something else.
ollama_port=$(pick_port 11434)
app_port=$(pick_port 8000)
metrics_port=$(pick_port 9464)
export OLLAMA_HOST="http://127.0.0.1:$ollama_port"
[ "$app_port" = 8000 ] || export PORT="$app_port"
[ "$metrics_port" = 9464 ] || export OTEL_EXPORTER_PROMETHEUS_PORT="$metrics_port"
# The demo shows request metrics quickly; the distro's own default is 15 s.
export OTEL_METRIC_EXPORT_INTERVAL="${OTEL_METRIC_EXPORT_INTERVAL:-2000}"

say "Ollama simulator on $OLLAMA_HOST"
.venv/bin/otel-taskmaster simulate --port "$ollama_port" >"$logs/simulator.log" 2>&1 &
pids+=($!)
if ! wait_http "$OLLAMA_HOST/api/version" 30 "${pids[0]}"; then
    echo "simulator did not start; its log:" >&2; cat "$logs/simulator.log" >&2; exit 1
fi

say "TaskMaster: opentelemetry-instrument python examples/serve.py (port $app_port)"
.venv/bin/opentelemetry-instrument "$py" examples/serve.py \
    >"$logs/app.stdout.log" 2>"$logs/app.stderr.log" &
pids+=($!)
if ! wait_http "http://127.0.0.1:$app_port/healthz" 60 "${pids[1]}"; then
    echo "app did not start; its stderr:" >&2; cat "$logs/app.stderr.log" >&2; exit 1
fi

say "A little traffic"
"$py" examples/traffic.py --url "http://127.0.0.1:$app_port" --requests 12 --stream-every 3 || true

metrics_url="http://localhost:$metrics_port/metrics"
say "Metrics: $metrics_url (a few taskmaster_ lines)"
sleep 1
"$py" - "$metrics_url" <<'EOF' || echo "(metrics endpoint not answering)"
import sys

import httpx

import re

# One sample of each of the seed design's series, scope labels left out for reading.
SEED = (
    "taskmaster_requests_total", "taskmaster_request_latency_seconds_count",
    "taskmaster_tokens_input_total", "taskmaster_tokens_output_total",
    "taskmaster_response_length_chars_count", "taskmaster_model_loaded",
    "taskmaster_last_successful_request_timestamp", "taskmaster_quality_score",
)
lines = httpx.get(sys.argv[1], timeout=5).text.splitlines()
for name in SEED:
    line = next((x for x in lines if x.startswith((name + "{", name + " "))), None)
    if line is not None:
        print(re.sub(r'otel_scope_[a-z_]+="[^"]*",?', "", line).replace(",}", "}").replace("{}", ""))
print(f"... {sum(1 for x in lines if x and not x.startswith('#'))} samples in all")
EOF

say "Logs: one JSON line per request on the app's stderr ($logs/app.stderr.log)"
grep -m 2 '"event_type":"request"' "$logs/app.stderr.log" || echo "(no request log lines yet)"
exports=$(grep -ciE 'export' "$logs/app.stderr.log" || true)
echo "(stderr lines about OTLP export: $exports; with no Collector each signal's failure is"
echo " reported once, then counted in taskmaster_telemetry_export_failures_total)"

say "Where to look"
cat <<EOF
  app             http://127.0.0.1:$app_port/v1/tasks  (POST {"prompt": "..."}), /healthz
  metrics         $metrics_url
  Ollama (sim)    $OLLAMA_HOST
  app logs        $logs/app.stderr.log
  OTLP            ${OTEL_EXPORTER_OTLP_ENDPOINT:-http://localhost:4318} (start the back end: see README "Back end")
EOF

if [ "$keep" -eq 1 ]; then
    echo
    echo "Still running (--keep): simulator pid ${pids[0]}, app pid ${pids[1]}."
    echo "Stop them with: kill ${pids[*]}"
else
    say "Stopping"
fi
