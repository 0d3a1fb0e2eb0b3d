#!/usr/bin/env bash
# tour.sh README HOME - run the README's tour and check what its comments
# promise.  Needs only bash, awk, sed and tr (the tour itself uses jq), so
# it runs on a fresh machine right after scripts/run (scripts/freshroot).
#
# The tour is the first ```sh block under the heading "## A five-minute
# tour".  bash runs it as written, from HOME (where ~/execfs leads to the
# mount), one command after another.  A command is a line with what
# continues it: lines ending in a backslash and the body of a
# here-document.  A comment "#> TEXT" at the end of a command, or alone on
# the lines right after it, is a promise: the command's output (stdout and
# stderr together) contains TEXT, with every run of white space read as one
# space, "..." standing for any text, and the text standing as whole words
# ("0" does not hold for "10").  Every command must exit 0.
# Prints one line per broken promise, then "README tour: N commands, N
# promises, N broken"; exits 1 if any is broken.
set -u
readme=$1 home=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/execfs-tour.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The block, as a script with a marker around each command
# ($work/script), the commands' first lines ($work/cmds: N TAB LINE TAB
# TEXT) and the promises ($work/promises: N TAB TEXT).
awk -v work="$work" '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function promise(s) { print n "\t" trim(s) >(work "/promises"); np++ }
function start(line) {
	print "printf \"\\n@@tour %d\\n\" " n >(work "/script")
	print n "\t" NR - base "\t" line >(work "/cmds")
}
function finish() {
	if (n && open) print "printf \"\\n@@tour-end %d rc=%d\\n\" " n " \"$?\"" >(work "/script")
	open = 0
}
# A line without its trailing promise, which it records.
function body(line,   i) {
	if (match(line, /[ \t]#>/)) {
		promise(substr(line, RSTART + 3))
		line = substr(line, 1, RSTART - 1)
	}
	return line
}
function heredoc(line,   d) {
	if (!match(line, /<<-?'?"'"'?[A-Za-z_]+/)) return ""
	d = substr(line, RSTART, RLENGTH)
	gsub(/[<'"'"'-]/, "", d)
	return d
}
BEGIN { print "exec 2>&1" >(work "/script") }
!inblock && $0 == "## A five-minute tour" { seen = 1; next }
seen && !inblock && $0 == "```sh" { inblock = 1; base = NR; next }
!inblock { next }
delim != "" {
	print >(work "/script")
	if ($0 == delim) delim = ""
	next
}
$0 == "```" { finish(); exit }
cont { line = body($0); print line >(work "/script"); cont = line ~ /\\$/
	if (delim == "") delim = heredoc(line); next }
/^[ \t]*#>/ { if (n) { sub(/^[ \t]*#>/, ""); promise($0) } ; next }
/^[ \t]*(#|$)/ { next }
{
	finish()
	n++
	line = body($0)
	start(line)
	open = 1
	print line >(work "/script")
	cont = line ~ /\\$/
	delim = heredoc(line)
}
END { finish() }
' "$readme"

touch "$work/cmds" "$work/promises"
if [ ! -s "$work/cmds" ] || [ ! -s "$work/promises" ]; then
	echo "README tour: no commands or no promises found in $readme"
	exit 1
fi

(cd "$home" && HOME=$home LC_ALL=C.UTF-8 timeout 240 bash "$work/script") \
	</dev/null >"$work/out" 2>&1

# Each command's output in $work/out.N, its status in $work/rc.N.
awk -v work="$work" '
/^@@tour [0-9]+$/ { n = $2; f = work "/out." n; printf "" >f; next }
/^@@tour-end [0-9]+ rc=[0-9]+$/ { sub(/rc=/, "", $3); print $3 >(work "/rc." $2); n = 0; next }
n { print >f }
' "$work/out"

# holds PROMISE FILE: FILE contains PROMISE as whole words (white space
# folded, ... wild): "0" does not hold for "10".
holds() {
	local flat p pat='* ' part sep=
	flat=" $(tr -s '[:space:]' ' ' <"$2") "
	p=$(printf '%s' "$1" | tr -s '[:space:]' ' ')
	while :; do
		part=${p%%...*}
		pat+=$sep$(printf '%s' "$part" | sed 's/./\\&/g')
		sep='*'
		[ "$part" != "$p" ] || break
		p=${p#*...}
	done
	[[ $flat == $pat' '* ]]
}

bad=0 cmds=0 proms=0
while IFS=$'\t' read -r n line text; do
	cmds=$((cmds + 1))
	head="README tour line $line: $text"
	if [ ! -f "$work/rc.$n" ]; then
		echo "$head: did not finish"
		bad=$((bad + 1))
		continue
	fi
	printed=$(tail -c 300 "$work/out.$n")
	rc=$(cat "$work/rc.$n")
	if [ "$rc" != 0 ]; then
		echo "$head: exit status $rc: $printed"
		bad=$((bad + 1))
	fi
	while IFS=$'\t' read -r pn p; do
		[ "$pn" = "$n" ] || continue
		proms=$((proms + 1))
		holds "$p" "$work/out.$n" && continue
		echo "$head: promised '$p', printed '$printed'"
		bad=$((bad + 1))
	done <"$work/promises"
done <"$work/cmds"
echo "README tour: $cmds commands, $proms promises, $bad broken"
[ "$bad" -eq 0 ]
