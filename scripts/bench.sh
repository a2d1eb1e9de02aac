#!/usr/bin/env bash
# Benchmarks that print machine-readable "BENCH ..." lines.
#
#   scripts/bench.sh log   file transaction log: the disk's raw fsync rate, then commits/s and forces per commit
#                          at 1, 4, 16 and 64 threads (see dev.concord.recovery.log.file.LogBenchmark)
#
# Extra JVM options for the benchmark (e.g. -Dbench.dir=/data to measure another disk) go in BENCH_JAVA_OPTS.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat >&2 <<'USAGE'
usage: scripts/bench.sh <subcommand>

subcommands:
  log    file transaction log: raw fsync rate, then commits/s and forces per commit at 1, 4, 16, 64 threads
USAGE
}

case "${1:-}" in
  log)
    mvn -q -B -DskipTests install -pl recovery -am
    # A forked JVM with the test classpath, so Maven's own threads and heap do not share the measurement.
    mvn -q -B -pl recovery exec:exec -Dexec.executable=java -Dexec.classpathScope=test \
      "-Dexec.args=-cp %classpath ${BENCH_JAVA_OPTS:-} dev.concord.recovery.log.file.LogBenchmark"
    ;;
  *)
    usage
    exit 2
    ;;
esac
