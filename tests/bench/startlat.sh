#!/usr/bin/env bash
# tests/bench/startlat.sh [ROUNDS] - issue 12: from the return of `cp` of a
# new execution to its first task's process running, with and without a
# `${ }` expression, beside `cp` of a new Environment, on a daemon of its
# own with a fresh state.  Measures and prints; never fails on a timing.
#   EXECFS    the daemon (default: build/fs/execfs)
#   STARTLAT  the helper (default: next to EXECFS's build, tests/bench/startlat)
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${EXECFS:=$here/../../build/fs/execfs}"
: "${STARTLAT:=$(dirname "$(dirname "$EXECFS")")/tests/bench/startlat}"
rounds=${1:-20}
[ -x "$EXECFS" ] || { echo "startlat: no daemon at $EXECFS" >&2; exit 2; }
[ -x "$STARTLAT" ] || { echo "startlat: no helper at $STARTLAT" >&2; exit 2; }
work=$(mktemp -d /tmp/execfs-startlat.XXXXXX)
stamps=$(mktemp -d /dev/shm/execfs-startlat.XXXXXX)
chmod 755 "$work" "$stamps"
mkdir -p "$work/mnt" "$work/state"
(umask 077; head -c 32 /dev/urandom >"$work/key")
pid=
cleanup() {
	mountpoint -q "$work/mnt" 2>/dev/null && fusermount3 -u -z "$work/mnt" 2>/dev/null
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -rf "$work" "$stamps"
}
trap cleanup EXIT
"$EXECFS" -f -o "auto_unmount,key_file=$work/key" "$work/state" "$work/mnt" \
	2>"$work/execfs.log" &
pid=$!
for _ in $(seq 1 200); do mountpoint -q "$work/mnt" && break; sleep 0.05; done
mountpoint -q "$work/mnt" || { echo "startlat: execfs did not mount" >&2; cat "$work/execfs.log" >&2; exit 1; }
sleep 1	# the daemon's start-up work (its evaluator pool, if any) is done
echo "startlat: $rounds rounds, $EXECFS (state on $(df --output=fstype "$work" | tail -1))"
"$STARTLAT" "$work/mnt" "$rounds" "$stamps"
rc=$?
# The same copies with the cp program (its own start included), after
# the helper's runs: the median of ROUNDS each, 200 ms apart.
cp_ms() {
	local a b
	a=$EPOCHREALTIME
	cp "$1" "$2"
	b=$EPOCHREALTIME
	awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f\n", (b-a)*1000}'
}
median() { sort -n | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]; else print "n/a"}'; }
printf 'apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata: {name: cpenv}\nspec:\n  data:\n    A: {value: x}\n' >"$work/env.yaml"
for i in $(seq 1 "$rounds"); do
	sed "s/cpenv/cpenv-$i/" "$work/env.yaml" >"$work/env-$i.yaml"
	printf 'metadata: {name: cpx-%s}\nspec: {workflowId: sl-plain}\n' "$i" >"$work/x-$i.yaml"
done
for i in $(seq 1 "$rounds"); do
	cp_ms "$work/env-$i.yaml" "$work/mnt/environments/" >>"$work/env.ms"
	sleep 0.2
	cp_ms "$work/x-$i.yaml" "$work/mnt/workflowexecutions/" >>"$work/x.ms"
	sleep 0.2
done
printf '  %-34s median %7s\n' "cp program, Environment (ms)" "$(median <"$work/env.ms")" \
	"cp program, execution (ms)" "$(median <"$work/x.ms")"
[ "$rc" -eq 0 ] || tail -n 20 "$work/execfs.log" >&2
exit "$rc"
