#!/usr/bin/env bash
# Benchmarks that print machine-readable "BENCH ..." lines.
#
#   scripts/bench.sh log   file transaction log: the disk's raw fsync rate, then commits/s, forces per commit,
#                          force time and CPU per commit at 1, 4, 16 and 64 threads, direct writes and page cache
#                          side by side (see dev.concord.recovery.log.file.LogBenchmark); about a minute
#   scripts/bench.sh peers [--option=value ...]
#                          Concord side by side with Narayana (journal and shadow store) and Atomikos: two no-I/O
#                          branches at 1, 4, 16, 64 threads, MariaDB + PostgreSQL branches at 1 and 8 threads next
#                          to hand-written XA; medians of 3 rounds; then the REST round trip through the service at
#                          2, 5 and 10 transactions per second offered. About 11 minutes with the build. Needs the
#                          databases of scripts/test-env.sh. Options (workloads, rounds, seconds, threads, rates,
#                          JFR, ...) are listed in the javadoc of dev.concord.it.bench.PeerBenchmark.
#   scripts/bench.sh rocketmq
#                          RocketMQ adapter on an embedded broker: half send + acknowledged END pairs per second
#                          through RocketMqXAResource vs plain DefaultMQProducer sends, 128-byte bodies, 1 and 16
#                          threads, medians of 5 rounds; about 2 minutes with the build. Settings (-Dbench.flush=
#                          SYNC_FLUSH, rounds, threads, ...) go in BENCH_JAVA_OPTS; see the javadoc of
#                          dev.concord.xa.rocketmq.bench.RocketMqBenchmark.
#
# Extra JVM options for the benchmark (e.g. -Dbench.dir=/data to measure another disk) go in BENCH_JAVA_OPTS.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat >&2 <<'USAGE'
usage: scripts/bench.sh <subcommand>

subcommands:
  log       file transaction log: raw fsync rate, then commits/s and forces per commit at 1, 4, 16, 64 threads
  peers     Concord vs Narayana vs Atomikos (nop, xa-db), then the REST round trip; options: see PeerBenchmark
  rocketmq  RocketMQ adapter: half send + acknowledged END pairs/s vs plain sends, 1 and 16 threads
USAGE
}

# Builds the reactor up to MODULE (no install: the local repository may be shared) and sets "classpath" to a
# private copy of the project's own jars and MODULE's test classes, plus the third-party jars in the local
# repository (released versions, which stay put). Runs take minutes, and others may rebuild the tree meanwhile:
# a class file or a jar replaced under a running JVM breaks it.
reactor_classpath() {
  local module=$1
  snapshot=$(mktemp -d "${TMPDIR:-/tmp}/concord-bench-cp.XXXXXX")
  trap 'rm -rf "${snapshot}"' EXIT
  # Every module of the reactor writes its class path to the file in turn; MODULE, last, stays.
  mvn -q -B -ntp -DskipTests -pl "${module}" -am package dependency:build-classpath \
    -Dmdep.outputFile="${snapshot}/classpath.txt"
  cp -r "${module}/target/test-classes" "${snapshot}/test-classes"
  classpath="${snapshot}/test-classes"
  if [[ -d "${module}/target/classes" ]]; then
    cp -r "${module}/target/classes" "${snapshot}/classes"
    classpath+=":${snapshot}/classes"
  fi
  # The file has no final newline, so read reports end of file: not an error here.
  IFS=: read -r -a entries < "${snapshot}/classpath.txt" || true
  for entry in "${entries[@]}"; do
    case "${entry}" in
      "${PWD}"/*)
        cp "${entry}" "${snapshot}/"
        entry="${snapshot}/$(basename "${entry}")"
        ;;
    esac
    classpath+=":${entry}"
  done
}

case "${1:-}" in
  log)
    reactor_classpath recovery
    # A JVM of its own, so Maven's threads and heap do not share the measurement.
    # shellcheck disable=SC2086 # BENCH_JAVA_OPTS holds several options
    java -cp "${classpath}" ${BENCH_JAVA_OPTS:-} dev.concord.recovery.log.file.LogBenchmark
    ;;
  peers)
    shift
    reactor_classpath integration-tests
    # Each contender runs in a child JVM of its own, started by the harness with this same class path.
    # shellcheck disable=SC2086 # BENCH_JAVA_OPTS holds several options
    java -cp "${classpath}" ${BENCH_JAVA_OPTS:-} dev.concord.it.bench.PeerBenchmark "$@"
    ;;
  rocketmq)
    reactor_classpath xa-resources
    # Embedded broker and client in a JVM of their own, not Maven's.
    # shellcheck disable=SC2086 # BENCH_JAVA_OPTS holds several options
    java -cp "${classpath}" ${BENCH_JAVA_OPTS:-} dev.concord.xa.rocketmq.bench.RocketMqBenchmark
    ;;
  *)
    usage
    exit 2
    ;;
esac
