#!/usr/bin/env bash
# The README's tour is a promise: run it on a fresh mount, as a newcomer
# would after scripts/run ~/execfs, and check every output its comments
# promise (tests/e2e/helpers/tour.sh says how they are read).
. "$(dirname "$0")/lib.sh"
README=$E2E_DIR/../../README.md
TOUR=$E2E_DIR/helpers/tour.sh

# tour_home: a HOME whose ~/execfs is the mount.
tour_home() {
	mkdir -p "$TDIR/home"
	ln -s "$MNT" "$TDIR/home/execfs"
}

t_tour_as_written() {
	tour_home
	bash "$TOUR" "$README" "$TDIR/home" >"$TDIR/tour.out" 2>&1 ||
		{ cat "$TDIR/tour.out" >&2; die "the README tour broke a promise"; return 1; }
	assert_contains "$TDIR/tour.out" ", 0 broken" || return 1
	# It left no context behind.
	assert_eq "$(ls "$MNT/executioncontexts" | wc -l)" 0 "contexts left"
}

# The check can fail: a README whose promise differs from what prints.
t_tour_broken_promise_is_caught() {
	tour_home
	sed 's/#> hello eu-west-1, key \*\*\*/#> hello us-east-9, key ***/' "$README" >"$TDIR/README.md"
	! cmp -s "$README" "$TDIR/README.md" || die "the promise to break is not in the README" || return 1
	if bash "$TOUR" "$TDIR/README.md" "$TDIR/home" >"$TDIR/tour.out" 2>&1; then
		die "a broken promise passed"
		return 1
	fi
	assert_contains "$TDIR/tour.out" "promised 'hello us-east-9, key ***', printed 'hello eu-west-1, key ***" || return 1
	assert_contains "$TDIR/tour.out" ", 1 broken"
}

run_tests "$@"
