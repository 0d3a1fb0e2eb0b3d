#!/usr/bin/env bash
# t_listing.sh - ls -l shows real sizes, ls -t orders by update, find walks
# the whole tree, grep -r finds spec text and never a secret (DESIGN 1.2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

t_listing_sizes() {
	strict
	make_good_set
	local f n=0
	while IFS= read -r f; do
		assert_eq "$(stat -c %s "$f")" "$(wc -c <"$f")" "size of ${f#$MNT/}"
		n=$((n + 1))
	done < <(find "$MNT" -type f -not -path '*/follow/*' -not -name log -not -name events)
	[ "$n" -ge 30 ] || die "only $n files checked"
	# ls -l agrees with stat.
	ls -l "$MNT/environments/goodenv" | awk 'NR > 1 {print $5, $9}' >"$TDIR/ls"
	while read -r size name; do
		assert_eq "$size" "$(wc -c <"$MNT/environments/goodenv/$name")" "ls -l size of $name"
	done <"$TDIR/ls"
	# Resource directories and kind directories are directories, views files.
	[ -d "$MNT/environments/goodenv" ] && [ -f "$MNT/environments/goodenv/spec.yaml" ]
	assert_eq "$(ls "$MNT/workflows")" goodwf
	assert_eq "$(ls "$MNT/workflowinstances" | tr '\n' ' ')" "goodinst goodwf-default "
}

# ls -t: newest update first; the resource directory's mtime is updated_at.
t_listing_ls_t() {
	strict
	local n
	for n in a b c; do
		env_doc "$n" >"$TDIR/$n.yaml"
		cp "$TDIR/$n.yaml" "$MNT/environments/"
		wait_tick
	done
	assert_eq "$(ls -t "$MNT/environments" | tr '\n' ' ')" "c b a " "ls -t after create"
	sed -i 's/description: d/description: newer/' "$MNT/environments/a/spec.yaml"
	assert_eq "$(ls -t "$MNT/environments" | tr '\n' ' ')" "a c b " "ls -t after updating a"
	assert_eq "$(ls "$MNT/environments" | tr '\n' ' ')" "a b c " "ls by slug"
	# mtime and updatedAt agree (to the second).
	local u m
	u=$(updated_at environments a)
	m=$(date -u -d "@$(stat -c %Y "$MNT/environments/a")" +%Y-%m-%dT%H:%M:%S)
	[[ $u == "$m"* ]] || die "mtime $m does not match updatedAt $u"
	remount_execfs
	assert_eq "$(ls -t "$MNT/environments" | tr '\n' ' ')" "a c b " "ls -t after remount"
}

# find walks everything without errors; every resource and view is listed.
t_listing_find() {
	strict
	make_good_set
	find "$MNT" >"$TDIR/find.out" 2>"$TDIR/find.err"
	[ ! -s "$TDIR/find.err" ] || { cat "$TDIR/find.err" >&2; die "find printed errors"; }
	local r v
	for r in workflows/goodwf workflowinstances/goodwf-default workflowinstances/goodinst \
		workflowexecutions/goodexec executioncontexts/goodctx environments/goodenv; do
		for v in "" /spec.yaml /resource.yaml /resource.json /status.yaml /id; do
			grep -qx -- "$MNT/$r$v" "$TDIR/find.out" || die "find did not list $r$v"
		done
	done
	grep -qx -- "$MNT/README" "$TDIR/find.out"
	grep -qx -- "$MNT/errors" "$TDIR/find.out"
	assert_eq "$(grep -c "^$MNT/by-id/" "$TDIR/find.out")" 6 "by-id entries"
	# find -type d / -newer / -name work as usual.
	assert_eq "$(find "$MNT/environments" -mindepth 1 -maxdepth 1 -type d | wc -l)" 1
	assert_eq "$(find "$MNT" -name spec.yaml | wc -l)" 6
	# ls -lR too.
	ls -lR "$MNT" >/dev/null 2>"$TDIR/ls.err" || { cat "$TDIR/ls.err" >&2; die "ls -lR failed"; }
	# du does not choke either.
	du -s "$MNT" >/dev/null
}

# grep -r finds spec text in specs and views, never a secret.
t_listing_grep_r() {
	strict
	make_good_set
	env_doc findme Pl4nted-S3cret-$$ "needle-in-the-haystack" >"$TDIR/findme.yaml"
	cp "$TDIR/findme.yaml" "$MNT/environments/"
	grep -rl --exclude-dir=follow needle-in-the-haystack "$MNT" | sort >"$TDIR/hits"
	grep -qx "$MNT/environments/findme/spec.yaml" "$TDIR/hits" || die "grep -r missed spec.yaml"
	grep -qx "$MNT/environments/findme/resource.yaml" "$TDIR/hits" || die "grep -r missed resource.yaml"
	grep -qx "$MNT/environments/findme/resource.json" "$TDIR/hits" || die "grep -r missed resource.json"
	if grep -r --exclude-dir=follow -l "Pl4nted-S3cret-$$" "$MNT"; then
		die "grep -r found the secret"
	fi
	if grep -r --exclude-dir=follow -l -e s3cr3t-value -e t0ken-abc "$MNT"; then
		die "grep -r found a good-set secret"
	fi
	# grep -R follows by-id links to the same files.
	grep -Rl --exclude-dir=follow needle-in-the-haystack "$MNT/by-id" | grep -q spec.yaml ||
		die "grep -R through by-id found nothing"
}

run_tests "$@"
