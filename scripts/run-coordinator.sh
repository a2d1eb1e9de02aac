#!/usr/bin/env bash
# Builds Concord (tests skipped) and runs the coordinator process in the foreground. Arguments go to the process;
# try --help. Needs only Java 17 and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -q -B -ntp -DskipTests install
cp_file=rest-api/target/classpath.txt
mvn -q -B -ntp -pl rest-api dependency:build-classpath -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=runtime
exec java -cp "rest-api/target/classes:$(cat "$cp_file")" dev.concord.service.Main "$@"
