#!/usr/bin/env bash
# Runs Concord's whole test suite: makes MariaDB and PostgreSQL ready (installing and starting them when
# missing), then builds every module and runs every test with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-env.sh
mvn -B -ntp verify "$@"
