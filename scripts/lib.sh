# scripts/lib.sh - sourced by the other scripts.
#
# quiet LOG CMD...: run CMD with its output in LOG; if it fails, print the
# last 60 lines of LOG and the command to stderr, and return its status.
# A step that fails always shows why; one that works stays silent.
quiet() {
	local log=$1 rc=0
	shift
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		echo "scripts/$(basename "$0"): failed (exit $rc): $*" >&2
		tail -n 60 "$log" | sed 's/^/  | /' >&2
		echo "scripts/$(basename "$0"): whole output in $log" >&2
	fi
	return $rc
}
