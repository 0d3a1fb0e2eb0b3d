#!/usr/bin/env bash
# tests/e2e/t_fs_smoke.sh - smoke test of the FUSE adapter: the tree, the
# commit points with the tools people use, scratch files, errors, drafts
# and a clean stop.  The full behaviour suite lives in the other t_*.sh.
. "$(dirname "$0")/lib.sh"

ENV_DOC='metadata: {name: prod}
spec: {data: {A: {value: x}}}'

# clean_log: the daemon log holds no sanitizer report.
clean_log() {
	assert_not_contains "$DLOG" "AddressSanitizer" &&
		assert_not_contains "$DLOG" "runtime error"
}

# make_prod: create environments/prod the way a shell user would.
make_prod() {
	printf '%s\n' "$ENV_DOC" > "$MNT/environments/prod.yaml" || die "cat > prod.yaml failed"
	assert_dir "$MNT/environments/prod"
}

t_tree_and_readme() {
	local want got
	want=$(printf '%s\n' README audit by-id environments errors executioncontexts \
		workflowexecutions workflowinstances workflows)
	got=$(ls "$MNT")
	assert_eq "$got" "$want" "root listing" || return 1
	[ -s "$MNT/README" ] || die "README is empty" || return 1
	assert_eq "$(wc -c < "$MNT/README")" "$(stat -c %s "$MNT/README")" "README size" || return 1
	assert_eq "$(ls "$MNT/environments")" "" "empty kind directory" || return 1
	assert_eq "$(stat -c %s "$MNT/errors")" "0" "no errors yet"
}

t_create_with_cat() {
	make_prod || return 1
	assert_absent "$MNT/environments/prod.yaml" || return 1
	local d=$MNT/environments/prod
	assert_file "$d/spec.yaml" || return 1
	assert_file "$d/resource.json" || return 1
	assert_file "$d/id" || return 1
	assert_contains "$d/spec.yaml" "value: x" || return 1
	local id
	id=$(jq -r .metadata.id "$d/resource.json") || die "jq failed" || return 1
	assert_eq "$id" "$(cat "$d/id")" "id file vs resource.json" || return 1
	assert_eq "$(readlink "$MNT/by-id/$id")" "../environments/prod" "by-id link" || return 1
	assert_eq "$(stat -c %s "$d/resource.json")" "$(wc -c < "$d/resource.json")" "exact size" || return 1
	assert_eq "$(stat -c %h "$d/spec.yaml")" "2" "spec.yaml st_nlink"
}

t_sed_updates_spec() {
	make_prod || return 1
	local f=$MNT/environments/prod/spec.yaml
	sed -i 's/value: x/value: y/' "$f" || die "sed -i failed" || return 1
	assert_contains "$f" "value: y" || return 1
	assert_not_contains "$f" "value: x" || return 1
	assert_eq "$(ls -A "$MNT/environments/prod" | grep -c '^sed')" "0" "sed temp left"
}

t_vim_edits_in_place() {
	make_prod || return 1
	local f=$MNT/environments/prod/spec.yaml ino
	ino=$(stat -c %i "$f")
	vim -es -u NONE --cmd 'set backupskip=' -c '%s/value: x/value: v/' -c 'wq' "$f" \
		|| die "vim failed" || return 1
	assert_contains "$f" "value: v" || return 1
	assert_eq "$(stat -c %i "$f")" "$ino" "spec.yaml inode after vim" || return 1
	assert_dir "$MNT/environments/prod" || return 1
	assert_eq "$(ls -A "$MNT/environments/prod" | grep -c '~$')" "0" "backup left"
}

t_rm_r_deletes() {
	make_prod || return 1
	local id
	id=$(cat "$MNT/environments/prod/id")
	rm -r "$MNT/environments/prod" </dev/null || die "rm -r failed" || return 1
	assert_absent "$MNT/environments/prod" || return 1
	assert_absent "$MNT/by-id/$id" || return 1
	assert_eq "$(ls "$MNT/environments")" "" "kind directory after rm -r"
}

t_scratch_files() {
	make_prod || return 1
	local d
	for d in "$MNT/environments" "$MNT/environments/prod"; do
		echo hello > "$d/4913" || die "create 4913 in $d" || return 1
		assert_eq "$(cat "$d/4913")" "hello" "scratch content" || return 1
		chmod 600 "$d/4913" || die "chmod scratch" || return 1
		assert_eq "$(stat -c %a "$d/4913")" "600" "scratch mode" || return 1
		mv "$d/4913" "$d/.x.swp" || die "rename scratch" || return 1
		rm "$d/.x.swp" || die "rm scratch" || return 1
		assert_absent "$d/.x.swp" || return 1
	done
	assert_eq "$(ls "$MNT/environments")" "prod" "only the resource is left" || return 1
	clean_log
}

t_bad_document() {
	printf 'metadata: {name: bad}\nspec: {nosuchfield: 1}\n' > "$TDIR/bad.yaml"
	assert_fails cp "$TDIR/bad.yaml" "$MNT/environments/" || return 1
	assert_contains "$TDIR/stderr" "Bad message" || return 1
	assert_absent "$MNT/environments/bad.yaml" || return 1
	assert_absent "$MNT/environments/bad" || return 1
	assert_contains "$MNT/errors" "environments/bad.yaml: EBADMSG" || return 1
	assert_contains "$DLOG" "environments/bad.yaml" || return 1
	clean_log
}

t_too_big_is_efbig() {
	{
		printf 'metadata: {name: big}\nspec:\n'
		for i in $(seq 1 12000); do printf '# %0100d\n' "$i"; done
	} > "$TDIR/big.yaml"
	assert_fails cp "$TDIR/big.yaml" "$MNT/environments/" || return 1
	assert_contains "$TDIR/stderr" "File too large" || return 1
	assert_absent "$MNT/environments/big" || return 1
	assert_absent "$MNT/environments/big.yaml" || return 1
	assert_eq "$(grep -c 'environments/big.yaml: EFBIG' "$MNT/errors")" "1" "one errors line"
}

t_failed_update_changes_nothing() {
	make_prod || return 1
	local f=$MNT/environments/prod/spec.yaml before
	before=$(cat "$f")
	printf 'spec: {nosuchfield: 1}\n' > "$TDIR/bad.yaml"
	assert_fails cp "$TDIR/bad.yaml" "$f" || return 1
	assert_contains "$TDIR/stderr" "Bad message" || return 1
	assert_eq "$(cat "$f")" "$before" "spec after a failed write" || return 1
	assert_contains "$MNT/errors" "environments/prod/spec.yaml: EBADMSG" || return 1
	truncate -s 0 "$f" 2>/dev/null
	assert_eq "$(cat "$f")" "$before" "spec after truncate -s 0" || return 1
	: > "$f"
	assert_eq "$(cat "$f")" "$before" "spec after : >" || return 1
	clean_log
}

t_views_are_read_only() {
	make_prod || return 1
	local d=$MNT/environments/prod
	assert_fails sh -c "echo x > '$d/resource.json'" || return 1
	assert_fails mv "$d/spec.yaml" "$d/spec.yaml~" || return 1
	assert_fails ln -s x "$d/.#spec.yaml" || return 1
	assert_fails rmdir "$MNT/environments" || return 1
	rm "$d/status.yaml" || die "unlink of a view should succeed" || return 1
	assert_file "$d/status.yaml"
}

t_mkdir_draft() {
	mkdir "$MNT/environments/dev" || die "mkdir failed" || return 1
	assert_file "$MNT/environments/dev/spec.yaml" || return 1
	assert_fails mkdir "$MNT/environments/Not_A_Slug" || return 1
	assert_fails mkdir "$MNT/environments/dev" || return 1
	printf 'metadata: {name: dev}\nspec: {data: {B: {value: y}}}\n' \
		> "$MNT/environments/dev/spec.yaml" || die "write draft" || return 1
	assert_file "$MNT/environments/dev/id" || return 1
	assert_contains "$MNT/environments/dev/spec.yaml" "value: y" || return 1
	mkdir "$MNT/environments/tmp" || return 1
	rmdir "$MNT/environments/tmp" || die "rmdir draft" || return 1
	assert_absent "$MNT/environments/tmp"
}

t_survives_remount() {
	make_prod || return 1
	remount_execfs || return 1
	assert_contains "$MNT/environments/prod/spec.yaml" "value: x"
}

t_sigterm_exits_zero() {
	local rc
	kill -TERM "$DPID"
	wait "$DPID"
	rc=$?
	DPID=
	assert_eq "$rc" "0" "exit status after SIGTERM" || return 1
	! mountpoint -q "$MNT" || die "still mounted"
}

# Names longer than NAME_MAX are refused, not cut: a cut name would
# commit under (and report) a different file name.
t_long_name_refused() {
	local long
	long=$(printf 'a%.0s' $(seq 1 300))
	assert_fails sh -c "echo x > '$MNT/environments/$long.yaml'" || return 1
	assert_contains "$TDIR/stderr" "File name too long" || return 1
	assert_fails mkdir "$MNT/environments/$long" || return 1
	echo x > "$MNT/environments/4913" || die "create scratch" || return 1
	assert_fails mv "$MNT/environments/4913" "$MNT/environments/$long" || return 1
	assert_contains "$TDIR/stderr" "File name too long" || return 1
	assert_eq "$(ls "$MNT/environments")" "4913" "kind directory after long names" || return 1
	clean_log
}

# A size past the document cap through ftruncate: EFBIG, bounded memory,
# one errors line, the spec unchanged.
t_truncate_huge_is_efbig() {
	make_prod || return 1
	local f=$MNT/environments/prod/spec.yaml before
	before=$(cat "$f")
	assert_fails truncate -s 8E "$f" || return 1
	assert_fails truncate -s 3G "$f" || return 1
	assert_contains "$TDIR/stderr" "File too large" || return 1
	assert_eq "$(cat "$f")" "$before" "spec after a huge truncate" || return 1
	assert_contains "$MNT/errors" "environments/prod/spec.yaml: EFBIG" || return 1
	assert_fails truncate -s 3G "$MNT/environments/new.yaml" || return 1
	assert_absent "$MNT/environments/new.yaml" || return 1
	assert_contains "$MNT/errors" "environments/new.yaml: EFBIG" || return 1
	# The close of a new document that got nothing but a huge ftruncate
	# reports EFBIG itself (not only the asynchronous release).
	python3 - "$MNT/environments/new2.yaml" <<'PY' || die "close after a huge ftruncate" || return 1
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
try:
    os.ftruncate(fd, 3 << 30)
    sys.exit("ftruncate succeeded")
except OSError as e:
    assert e.errno == errno.EFBIG, e
try:
    os.close(fd)
    sys.exit("close succeeded")
except OSError as e:
    assert e.errno == errno.EFBIG, e
PY
	assert_contains "$MNT/errors" "environments/new2.yaml: EFBIG" || return 1
	assert_fails dd if=/dev/zero of="$f" bs=1 count=1 seek=4G conv=notrunc status=none || return 1
	assert_eq "$(cat "$f")" "$before" "spec after a write at 4G" || return 1
	clean_log
}

run_tests "$@"
