#!/usr/bin/env bash
# t_bad_corpus.sh - bad documents are refused with the right errno, one
# line in MNT/errors, and no change anywhere (DESIGN 1.3, 1.4).
#
# tests/corpus/bad/MANIFEST has one line per document:
#   <file> <kinddir> <ERRNO[|ERRNO]> <fragment>
# The fragment (rest of the line) must appear in the errors line; "a && b"
# needs both, "a || b" either, an empty fragment checks errno and file only.
# ERRNO alternatives are for limits whose errno the contract leaves open
# (EFBIG for a size limit, EBADMSG for malformed input).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

BAD=$CORPUS/bad
FAILS=()
BASE=

# frag_ok LINE FRAGMENT: the fragment expression matches LINE.
frag_ok() {
	local line=$1 expr=$2 part alt ok
	[ -n "$expr" ] || return 0
	while [ -n "$expr" ]; do
		if [[ $expr == *" && "* ]]; then
			part=${expr%% && *} expr=${expr#* && }
		else
			part=$expr expr=
		fi
		ok=1
		while [ -n "$part" ]; do
			if [[ $part == *" || "* ]]; then
				alt=${part%% || *} part=${part#* || }
			else
				alt=$part part=
			fi
			[[ $line == *"$alt"* ]] && ok=0
		done
		[ $ok -eq 0 ] || return 1
	done
	return 0
}

# check_bad SRC TARGET SUBJECT ERRNOS FRAGMENT: cp SRC onto TARGET must fail
# with one of ERRNOS, append one errors line "<ts> SUBJECT: ERRNO: ..."
# containing FRAGMENT, and change no view.  Failures are collected in FAILS.
check_bad() {
	local src=$1 target=$2 subj=$3 errnos=$4 frag=$5
	local n0 n1 en got= line snap why=
	n0=$(wc -l <"$MNT/errors")
	if cp "$src" "$target" 2>"$TDIR/stderr"; then
		why="cp succeeded"
	else
		for en in ${errnos//|/ }; do
			grep -qF -- "$(strerror_of "$en")" "$TDIR/stderr" && got=$en
		done
		[ -n "$got" ] || why="cp said '$(head -c 200 "$TDIR/stderr")', want $errnos"
	fi
	line=$(errors_last)
	n1=$(wc -l <"$MNT/errors")
	if [ -z "$why" ]; then
		if ! [[ $line =~ $TS_RE" " ]]; then
			why="errors line lacks a timestamp: $line"
		elif [[ $line != *" $subj: $got: "* ]]; then
			why="errors line does not name '$subj: $got': $line"
		elif ! frag_ok "$line" "$frag"; then
			why="errors line lacks '$frag': $line"
		elif [ "$n0" -lt 100 ] && [ "$n1" -ne $((n0 + 1)) ]; then
			why="errors grew from $n0 to $n1 lines"
		elif [ "$n1" -gt 100 ]; then
			why="errors holds $n1 lines (at most 100)"
		fi
	fi
	# Whatever was left of the failed file goes; then nothing may differ.
	case $target in */spec.yaml) ;; *) rm -f "$target" 2>/dev/null || true ;; esac
	snap=$(snapshot)
	if [ "$snap" != "$BASE" ]; then
		diff <(echo "$BASE") <(echo "$snap") | head -5 >"$TDIR/diff" || true
		why="${why:+$why; }views changed: $(tr '\n' ' ' <"$TDIR/diff")"
		BASE=$snap
	fi
	if [ -n "$why" ]; then
		FAILS+=("$subj: $why")
		echo "    bad: $subj: $why" >&2
	fi
	return 0
}

# report_fails: fail the test if any case failed.
report_fails() {
	[ ${#FAILS[@]} -eq 0 ] && return 0
	echo "    ${#FAILS[@]} case(s) failed" >&2
	return 1
}

# The manifest is complete and consistent (no mount needed for this, but
# it is cheap to run under the harness).
t_bad_manifest_consistent() {
	strict
	local n=0 f kd en frag
	while read -r f kd en frag; do
		case $f in '#'* | '') continue ;; esac
		n=$((n + 1))
		assert_file "$BAD/$f"
		prefix_of "$kd" >/dev/null || die "$f: bad kind dir $kd"
		for e in ${en//|/ }; do strerror_of "$e" >/dev/null || die "$f: bad errno $e"; done
	done <"$BAD/MANIFEST"
	[ "$n" -ge 100 ] || die "only $n cases"
	for f in "$BAD"/*; do
		[ "$(basename "$f")" = MANIFEST ] && continue
		grep -q "^$(basename "$f") " "$BAD/MANIFEST" || die "$f not in MANIFEST"
	done
	assert_eq "$(awk '!/^#/ {print $1}' "$BAD/MANIFEST" | sort | uniq -d)" "" "duplicate manifest entries"
}

# Every manifest document, copied into its kind directory.
t_bad_corpus_manifest() {
	strict
	make_good_set
	BASE=$(snapshot)
	local f kd en frag n=0 last=
	while read -r f kd en frag; do
		case $f in '#'* | '') continue ;; esac
		check_bad "$BAD/$f" "$MNT/$kd/$f" "$kd/$f" "$en" "$frag"
		n=$((n + 1)) last=$kd/$f
	done <"$BAD/MANIFEST"
	echo "    info: $n manifest cases, ${#FAILS[@]} failed" >&2
	# errors keeps the newest 100, newest last.
	[ "$(wc -l <"$MNT/errors")" -le 100 ] || die "errors longer than 100 lines"
	[[ $(errors_last) == *" $last: "* ]] || die "newest errors line is not the last case"
	report_fails
}

# Documents generated here: too large, NUL bytes, invalid UTF-8, too many
# items, too long a string.
t_bad_corpus_generated() {
	strict
	make_good_set
	BASE=$(snapshot)
	local g=$TDIR/gen i
	mkdir "$g"
	# > 1 MiB of which almost all is comments: only the document size limit.
	{
		env_doc huge1
		for i in $(seq 1 11000); do
			printf '# %0100d\n' "$i"
		done
	} >"$g/huge1.yaml"
	check_bad "$g/huge1.yaml" "$MNT/environments/huge1.yaml" environments/huge1.yaml EFBIG ""
	# 3 MiB in one value.
	{
		printf 'metadata: {name: huge2}\nspec:\n  description: "'
		head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' 'y'
		printf '"\n'
	} >"$g/huge2.yaml"
	check_bad "$g/huge2.yaml" "$MNT/environments/huge2.yaml" environments/huge2.yaml EFBIG ""
	# The same through a shell redirection into spec.yaml.
	check_bad "$g/huge2.yaml" "$MNT/environments/goodenv/spec.yaml" \
		environments/goodenv/spec.yaml EFBIG ""
	# NUL bytes: in a value, at the start, in a comment.
	printf 'metadata: {name: nul1}\nspec: {description: "a\0b"}\n' >"$g/nul1.yaml"
	check_bad "$g/nul1.yaml" "$MNT/environments/nul1.yaml" environments/nul1.yaml EBADMSG line
	printf '\0metadata: {name: nul2}\n' >"$g/nul2.yaml"
	check_bad "$g/nul2.yaml" "$MNT/environments/nul2.yaml" environments/nul2.yaml EBADMSG line
	{ wf_doc nul3; printf '# comment \0 with a NUL\n'; } >"$g/nul3.yaml"
	check_bad "$g/nul3.yaml" "$MNT/workflows/nul3.yaml" workflows/nul3.yaml EBADMSG line
	{ printf 'metadata: {name: nul4}\nspec:\n  executionId: goodexec\n  data: {TOKEN: {value: "t\0k", isSecret: true}}\n'; } >"$g/nul4.yaml"
	check_bad "$g/nul4.yaml" "$MNT/executioncontexts/nul4.yaml" executioncontexts/nul4.yaml EBADMSG line
	# Invalid UTF-8.
	printf 'metadata: {name: utf1}\nspec: {description: "caf\xc3 \xff\xfe"}\n' >"$g/utf1.yaml"
	check_bad "$g/utf1.yaml" "$MNT/environments/utf1.yaml" environments/utf1.yaml EBADMSG line
	printf 'metadata: {name: utf2}\nspec: {workflowId: goodwf, triggerMessage: "\xed\xa0\x80"}\n' >"$g/utf2.yaml"
	check_bad "$g/utf2.yaml" "$MNT/workflowexecutions/utf2.yaml" workflowexecutions/utf2.yaml EBADMSG line
	# More entries in one map than allowed (10000).
	{
		printf 'metadata: {name: items1}\nspec:\n  data:\n'
		for i in $(seq 0 10050); do printf '    K%d: {value: v}\n' "$i"; done
	} >"$g/items1.yaml"
	check_bad "$g/items1.yaml" "$MNT/environments/items1.yaml" environments/items1.yaml "EFBIG|EBADMSG" ""
	# A string longer than allowed (64 KiB).
	{
		printf 'metadata: {name: str1}\nspec: {description: '
		head -c 70000 /dev/zero | tr '\0' 's'
		printf '}\n'
	} >"$g/str1.yaml"
	check_bad "$g/str1.yaml" "$MNT/environments/str1.yaml" environments/str1.yaml "EFBIG|EBADMSG" ""
	# Very deep nesting, generated: 5000 levels.
	{
		printf 'metadata: {name: deep1}\nspec: {workflowId: goodwf, triggerMetadata: '
		head -c 5000 /dev/zero | tr '\0' '['
		printf x
		head -c 5000 /dev/zero | tr '\0' ']'
		printf '}\n'
	} >"$g/deep1.yaml"
	check_bad "$g/deep1.yaml" "$MNT/workflowexecutions/deep1.yaml" workflowexecutions/deep1.yaml "EFBIG|EBADMSG" ""
	report_fails
}

# Bad documents written over an existing spec.yaml: immutable fields and
# kinds (EPERM), invalid documents (EBADMSG), dangling references (ENOENT).
# The previous spec reads back unchanged (the snapshot covers spec.yaml).
t_bad_corpus_spec_overwrite() {
	strict
	make_good_set
	BASE=$(snapshot)
	local g=$TDIR/gen envid wfid
	mkdir "$g"
	envid=$(rid environments goodenv)
	wfid=$(rid workflows goodwf)
	local E=$MNT/environments/goodenv/spec.yaml W=$MNT/workflows/goodwf/spec.yaml
	local C=$MNT/executioncontexts/goodctx/spec.yaml I=$MNT/workflowinstances/goodinst/spec.yaml
	local X=$MNT/workflowexecutions/goodexec/spec.yaml

	# ovr NAME SPEC SUBJECT ERRNOS FRAGMENT SED-SCRIPT: edit a copy of SPEC
	# with SED-SCRIPT and copy it back over SPEC.
	ovr() {
		sed "$6" "$2" >"$g/$1"
		cmp -s "$g/$1" "$2" && [ "$6" != "" ] &&
			FAILS+=("$1: test error: sed script changed nothing")
		check_bad "$g/$1" "$2" "$3" "$4" "$5"
	}
	local ES=environments/goodenv/spec.yaml WS=workflows/goodwf/spec.yaml
	local CS=executioncontexts/goodctx/spec.yaml IS=workflowinstances/goodinst/spec.yaml
	local XS=workflowexecutions/goodexec/spec.yaml

	ovr id-other "$E" $ES EPERM metadata.id \
		"/^  name: goodenv/a\\  id: env-01arz3ndektsv4rrffq69g5fav"
	ovr id-wrong-kind "$E" $ES "EPERM|EBADMSG" metadata.id "/^  name: goodenv/a\\  id: $wfid"
	ovr slug-other "$E" $ES EPERM metadata.slug "/^  name: goodenv/a\\  slug: otherenv"
	ovr slug-other-wf "$W" $WS EPERM metadata.slug "/^  name: goodwf/a\\  slug: goodwf2"
	ovr org-other "$E" $ES EPERM metadata.org "/^  name: goodenv/a\\  org: evil-org"
	ovr ctx-same "$C" $CS EPERM "" ""
	ovr ctx-changed "$C" $CS EPERM "" "s/executionId: .*/executionId: other/"
	ovr ctx-with-mask "$C" $CS EPERM "" "s/TOKEN/TOKEN2/"
	ovr malformed "$E" $ES EBADMSG line "s/^  description: .*/  description: [unclosed/"
	ovr unknown-field "$E" $ES EBADMSG "unknown field && bogusSpec" "/^  description:/a\\  bogusSpec: 1"
	ovr tasks-empty "$W" $WS EBADMSG spec.tasks 's/^  tasks:.*/  tasks: []/;/^    /d'
	ovr kind-changed "$E" $ES EBADMSG kind "s/^kind: Environment/kind: Workflow/"
	ovr scope-platform "$E" $ES EBADMSG "ownerScope || owner_scope" \
		"/^  name: goodenv/a\\  ownerScope: platform"
	ovr dsl-two "$W" $WS EBADMSG spec.document.dsl "s/dsl: 1.0.0/dsl: 2.0.0/"
	ovr dup-task "$W" $WS EBADMSG spec.tasks \
		'$a\    - name: t1\n      kind: RUN\n      taskConfig: {shell: {command: x}}'
	ovr inst-dangling "$I" $IS ENOENT nosuchwf "s/workflowId: .*/workflowId: nosuchwf/"
	ovr inst-env-dangling "$I" $IS ENOENT nosuchenv "s/envRefs: .*/envRefs: [nosuchenv]/"
	ovr exec-dangling "$X" $XS ENOENT nosuchwf "s/workflowId: .*/workflowId: nosuchwf/"
	ovr empty-doc "$E" $ES EBADMSG empty 's/.*/# gone/'
	ovr two-docs "$E" $ES EBADMSG "document || line" '$a\---\nmetadata: {name: x}'
	ovr exec-neither "$X" $XS EBADMSG workflowId "/workflowId/d"

	# Writing one's own id back is no change of id: allowed.
	sed "/^  name: goodenv/a\\  id: $envid" "$E" >"$g/own-id"
	cp "$g/own-id" "$E" || FAILS+=("$ES: writing its own metadata.id was refused: $(errors_last)")
	[ "$(rid environments goodenv)" = "$envid" ] || FAILS+=("$ES: id changed")
	report_fails
}

run_tests "$@"
