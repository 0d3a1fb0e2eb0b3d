#!/usr/bin/env python3
"""Run the README's tour and check what its comments promise.

usage: tour.py README HOME

The tour is the first ```sh block under the heading "## A five-minute
tour".  It is run as written by bash, from HOME (where ~/execfs must lead
to a mount), one command after another.  A command is a line with what
continues it: lines ending in a backslash and the body of a here-document.
A comment "#> TEXT" at the end of a command, or alone on the lines right
after it, is a promise: the command's output (stdout and stderr together)
contains TEXT, with every run of white space read as one space and "..."
standing for any text.  Every command must exit 0.  Prints one line per
broken promise and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

MARK = "@@tour-command"


def tour_block(readme):
    """The lines of the tour's sh block."""
    lines = open(readme, encoding="utf-8").read().split("\n")
    start = lines.index("## A five-minute tour")
    begin = next(i for i in range(start, len(lines)) if lines[i] == "```sh")
    end = lines.index("```", begin + 1)
    return lines[begin + 1:end]


def split_promise(line):
    """(line without a trailing promise, promise or None)."""
    m = re.search(r"\s#>\s?(.*)$", line)
    if not m:
        return line, None
    return line[:m.start()].rstrip(), m.group(1).strip()


def commands(block):
    """[(first line number, text, [promises])] in order."""
    out, i = [], 0
    while i < len(block):
        line = block[i]
        bare = line.strip()
        if bare.startswith("#>") and out:
            out[-1][2].append(bare[2:].strip())
            i += 1
            continue
        if not bare or bare.startswith("#"):
            i += 1
            continue
        first = i
        text, promise = split_promise(line)
        parts, promises = [text], [promise] if promise else []
        heredoc = re.search(r"<<-?'?(\w+)'?", text)
        while parts[-1].endswith("\\") and i + 1 < len(block):
            i += 1
            text, promise = split_promise(block[i])
            parts.append(text)
            promises += [promise] if promise else []
            heredoc = heredoc or re.search(r"<<-?'?(\w+)'?", text)
        if heredoc:
            while i + 1 < len(block) and block[i + 1] != heredoc.group(1):
                i += 1
                parts.append(block[i])
            i += 1
            parts.append(block[i] if i < len(block) else "")
        out.append((first + 1, "\n".join(parts), promises))
        i += 1
    return out


def script(cmds):
    """A bash script running each command after a marker line."""
    body = ["exec 2>&1"]
    for n, (_, text, _) in enumerate(cmds):
        body.append("printf '\\n%s %d\\n' " + MARK + " " + str(n))
        body.append(text)
        body.append("printf '\\n%s %d rc=%d\\n' " + MARK + "-end " + str(n)
                    + ' "$?"')
    return "\n".join(body) + "\n"


def outputs(text, count):
    """{n: (output, rc)} from the marked output of the script."""
    res = {}
    pat = re.compile(r"\n" + MARK + r" (\d+)\n(.*?)\n" + MARK
                     + r"-end \1 rc=(\d+)\n", re.S)
    for m in pat.finditer("\n" + text):
        res[int(m.group(1))] = (m.group(2), int(m.group(3)))
    return res


def holds(promise, output):
    """Whether output contains promise (white space folded, ... wild)."""
    flat = " ".join(output.split())
    parts = [re.escape(" ".join(p.split())) for p in promise.split("...")]
    return re.search(".*?".join(parts), flat) is not None


def check(cmds, got):
    """Lines describing every broken promise or failed command."""
    bad = []
    for n, (line, text, promises) in enumerate(cmds):
        head = "README tour line %d: %s" % (line, text.split("\n")[0])
        if n not in got:
            bad.append(head + ": did not finish")
            continue
        output, rc = got[n]
        if rc != 0:
            bad.append(head + ": exit status %d: %s" % (rc, output[-300:]))
        for p in promises:
            if not holds(p, output):
                bad.append(head + ": promised '%s', printed '%s'"
                           % (p, output[-300:]))
    return bad


def main():
    readme, home = sys.argv[1], sys.argv[2]
    cmds = commands(tour_block(readme))
    if not cmds or not any(c[2] for c in cmds):
        print("README tour: no commands or no promises found")
        return 1
    env = dict(os.environ, HOME=home, LC_ALL="C.UTF-8")
    run = subprocess.run(["bash", "-c", script(cmds)], cwd=home, env=env,
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         timeout=240)
    bad = check(cmds, outputs(run.stdout.decode("utf-8", "replace"),
                              len(cmds)))
    for b in bad:
        print(b)
    print("README tour: %d commands, %d promises, %d broken"
          % (len(cmds), sum(len(c[2]) for c in cmds), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
