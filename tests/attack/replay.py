"""Run attack plans again, outside hypothesis: the way to reproduce a reported failure or crash.

    python tests/attack/replay.py --module geometry --so build/modules/geometry.hpy0.so \\
        --mode debug FILE

FILE holds plans as the attack prints them (`obj = ...` then the operation), separated by lines
starting with `#`; `-` reads standard input. Each plan runs in a fresh namespace with the
hostile objects and the module as `m`; its outcome is printed. A crash of the interpreter ends
the replay at the plan that caused it (or prepared it: HPYRS_ATTACK_LOG=<file> makes the worker
write every plan it runs, for replaying a whole sequence).
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hostile  # noqa: E402
import targets  # noqa: E402
import worker  # noqa: E402


def plans(text):
    chunk = []
    for line in text.splitlines():
        if line.startswith("#"):
            if chunk:
                yield "\n".join(chunk)
            chunk = []
        elif line.strip():
            chunk.append(line)
    if chunk:
        yield "\n".join(chunk)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--so", required=True)
    parser.add_argument("--mode", default="universal", choices=sorted(worker.MODES))
    parser.add_argument("file")
    options = parser.parse_args()
    text = sys.stdin.read() if options.file == "-" else open(options.file, encoding="utf-8").read()
    scratch = tempfile.mkdtemp(prefix="replay-")
    targets.prepare_files(scratch)
    module = worker.load(options.module, options.so, options.mode, scratch)
    base = {name: getattr(hostile, name) for name in hostile.__all__}
    base.update(targets.HELPERS, m=module, obj=None, TMP=scratch)
    for i, plan in enumerate(plans(text)):
        namespace = dict(base)
        print("--- plan %d\n%s" % (i, plan), flush=True)
        try:
            exec(compile(plan, "<plan %d>" % i, "exec"), namespace)
            print("=> ok", flush=True)
        except BaseException as e:  # noqa: B902 - every outcome is printed
            print("=> %s: %s" % (type(e).__name__, worker.safe_str(e)), flush=True)


if __name__ == "__main__":
    main()
