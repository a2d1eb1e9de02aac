#!/usr/bin/env bash
# Builds Concord (tests skipped) and runs the coordinator service in the foreground: java -jar on the one service
# artifact. Arguments go to the service (try --help); without --config it runs on defaults: data in ./data, HTTP on
# 127.0.0.1:8080, a generated admin token in data/admin.token, and an embedded RocketMQ broker and Derby database
# (data/embedded) as its resources. Needs only Java 17 and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -q -B -ntp -DskipTests install
exec java -jar rest-api/target/concord-service.jar "$@"
