#!/usr/bin/env bash
# The test command (README, .ci/run): installs the pinned ccusage that the parity tests compare
# freight against and the pinned DuckDB (PyPI, in a venv under target/) that runs the pillar
# SQL on the same facts, then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

CCUSAGE_VERSION=20.0.24
prefix=target/ccusage
if [ ! -x "$prefix/node_modules/.bin/ccusage" ] || ! grep -q "\"version\": \"$CCUSAGE_VERSION\"" "$prefix/node_modules/ccusage/package.json" 2>/dev/null; then
  echo "test.sh: installing ccusage@$CCUSAGE_VERSION (npm) into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent "ccusage@$CCUSAGE_VERSION" >&2
fi
export FREIGHT_CCUSAGE="$PWD/$prefix/node_modules/.bin/ccusage"
export FREIGHT_REQUIRE_CCUSAGE=1

DUCKDB_VERSION=2.0.0
venv=target/pyenv
if ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  echo "test.sh: installing duckdb==$DUCKDB_VERSION (pip) into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" >&2
fi
export FREIGHT_DUCKDB_PYTHON="$PWD/$venv/bin/python"
export FREIGHT_REQUIRE_DUCKDB=1

# The real OpenTelemetry Python SDK sends to `freight serve` in the server tests.
OTEL_VERSION=1.45.2
if ! "$venv/bin/python" -c "import opentelemetry.sdk.version as v, sys; sys.exit(v.__version__ != '$OTEL_VERSION')" 2>/dev/null; then
  echo "test.sh: installing opentelemetry-sdk==$OTEL_VERSION and its OTLP exporters (pip) into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "opentelemetry-sdk==$OTEL_VERSION" \
    "opentelemetry-exporter-otlp-proto-http==$OTEL_VERSION" "opentelemetry-exporter-otlp-proto-grpc==$OTEL_VERSION" >&2
fi
export FREIGHT_OTEL_PYTHON="$PWD/$venv/bin/python"
export FREIGHT_REQUIRE_OTEL=1

# schemathesis generates requests for every operation in docs/openapi.json (no 500s).
SCHEMATHESIS_VERSION=4.32.5
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
  echo "test.sh: installing schemathesis==$SCHEMATHESIS_VERSION (pip) into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
export FREIGHT_SCHEMATHESIS="$PWD/$venv/bin/schemathesis"
export FREIGHT_REQUIRE_SCHEMATHESIS=1

# Headless Chromium (Debian's) loads the dashboard in the API tests.
if ! command -v chromium >/dev/null; then
  echo "test.sh: installing chromium (apt)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; fi
fi
export FREIGHT_CHROMIUM=chromium
export FREIGHT_REQUIRE_CHROMIUM=1

cargo test --workspace --locked "$@"
