#!/usr/bin/env bash
# Runs every end-to-end test file (tests/e2e/t_*.sh) and prints the total
# as "N passed, N failed".  EXECFS may point at the binary to test.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for f in "$dir"/t_*.sh; do
	out=$(bash "$f" "$@" 2>&1)
	echo "$out" | grep -v ': [0-9]* passed, [0-9]* failed$'
	line=$(echo "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -1)
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	n=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	if [ -z "$line" ]; then
		echo "FAIL $(basename "$f"): no result line"
		fail=$((fail + 1))
		continue
	fi
	pass=$((pass + p)); fail=$((fail + n))
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
