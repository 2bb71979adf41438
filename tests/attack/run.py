"""The attack suite's driver: every module, in every HPy mode, on every interpreter given.

    python tests/attack/run.py [--examples N] [--seed S] [--jobs J] [--out DIR] 3.8=/path/python ...

The modules come from the HPYRS_<MODULE>_SO variables (tools/test.sh and tools/attack.sh set
them). `--modes native` attacks the native build instead, in a run of its own: the variables
then name build/native-cp3XY/<name><EXT_SUFFIX> (tools/build-module.sh --native), the workers
run with HPYRS_ABI=native (tests/python/hpyrs_abi.py), and rawadd, which has no native build,
is skipped. One worker process (worker.py) per (interpreter, module, mode); when one crashes (a
segfault, an abort) or hangs, the crash is recorded with the call that was being made, and the
worker is started again after that target, so one crash hides nothing else. Prints the counts
and every failure and crash with its reproducer; exits 1 if there was any.

N (examples per target and run) defaults to HPYRS_ATTACK_EXAMPLES, else 30; the seed of each
target differs per interpreter and mode (fixed, so a run is reproducible), so the runs of one
`make test` try different examples rather than the same ones 18 times.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODULES = ["rawadd", "quickstart", "geometry", "containers", "tree", "apitest", "protocols", "errors", "layout",
           "stdtypes", "inherit"]
MODES = ["universal", "debug", "trace"]
# the native build (run.py --modes native), alone in its run; modules it does not have
NATIVE_MODE = "native"
NOT_NATIVE = {"rawadd": "rawadd is a hand-written universal fixture (hpy-sys alone): it has no native build"}
# a call that makes no progress for this long is a hang (the slowest legitimate call, a
# sum_of_squares overflowing after 3 million steps in a debug build, takes well under a second)
STALL_SECONDS = 120


def read_current(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        n, = struct.unpack("<I", data[:4])
        return data[4:4 + n].decode("utf-8", "backslashreplace")
    except (OSError, struct.error):
        return ""


def read_events(path):
    events = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    events.append(json.loads(line))
    except OSError:
        pass
    return events


class Job:
    def __init__(self, minor, python, module, so, mode, examples, seed, out, only="", env=None):
        self.minor, self.python, self.module, self.so, self.mode = minor, python, module, so, mode
        self.examples, self.seed, self.only, self.extra_env = examples, seed, only, env or {}
        self.name = "%s-%s-%s" % (minor, module, mode)
        self.dir = os.path.join(out, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.events_path = os.path.join(self.dir, "events.jsonl")
        self.current_path = os.path.join(self.dir, "current.bin")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        for name in os.listdir(self.dir):  # a previous run's events and reproducers
            if name.endswith((".jsonl", ".txt")):
                os.remove(os.path.join(self.dir, name))
        self.done, self.skipped, self.crashes, self.problems, self.notes = {}, {}, [], [], []
        self.discovered = []
        self.seconds = 0.0

    def run(self):
        started = time.monotonic()
        skip = set()
        while True:
            proc, reason = self.run_worker(skip)
            events = read_events(self.events_path)
            started_targets = []
            finished = False
            for e in events:
                if e["event"] == "surface":
                    self.discovered, self.problems, self.notes = e["targets"], e["problems"], e.get("notes", [])
                elif e["event"] == "start":
                    started_targets.append(e["target"])
                elif e["event"] == "done":
                    self.done[e["target"]] = e
                elif e["event"] == "skipped":
                    self.skipped[e["target"]] = e["reason"]
                elif e["event"] == "finished":
                    finished = True
            if finished:
                break
            crashed = [t for t in started_targets if t not in self.done and t not in skip]
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                stderr_tail = f.read()[-6000:]
            if not crashed:
                self.crashes.append({"target": None, "how": reason, "call": read_current(self.current_path),
                                     "stderr": stderr_tail})
                break
            target = crashed[-1]
            call = read_current(self.current_path)
            reproducer = os.path.join(self.dir, "crash-%s.txt" % target)
            with open(reproducer, "w", encoding="utf-8") as f:
                f.write("# %s\n%s\n" % (call.split("\n", 1)[0], call.split("\n", 1)[1] if "\n" in call else ""))
            self.crashes.append({"target": target, "how": reason, "call": call, "stderr": stderr_tail,
                                 "reproducer": reproducer})
            skip = set(self.done) | set(self.skipped) | {c["target"] for c in self.crashes if c["target"]}
        self.seconds = time.monotonic() - started
        return self

    def run_worker(self, skip):
        command = [self.python, os.path.join(HERE, "worker.py"), "--module", self.module, "--so", self.so,
                   "--mode", self.mode, "--examples", str(self.examples),
                   "--seed", str(zlib.crc32(("%s/%s" % (self.minor, self.mode)).encode()) ^ self.seed),
                   "--events", self.events_path, "--current", self.current_path, "--skip", ",".join(sorted(skip)),
                   "--only", self.only]
        # RUST_BACKTRACE=0: the panics on purpose print one line each, not a backtrace;
        # PYTHONHASHSEED: the same hashes (set and dict orders) on every run
        env = dict(os.environ, RUST_BACKTRACE="0", PYTHONHASHSEED="0", PYTHONFAULTHANDLER="1",
                   HYPOTHESIS_STORAGE_DIRECTORY=os.path.join(os.path.dirname(self.dir), "hypothesis"), **self.extra_env)
        # the build the worker loads (tests/python/hpyrs_abi.py)
        env["HPYRS_ABI"] = "native" if self.mode == NATIVE_MODE else "universal"
        with open(self.stderr_path, "a") as stderr:
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=HERE)
            last_seen, last_change = None, time.monotonic()
            while True:
                try:
                    proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                seen = (read_current(self.current_path), os.path.getsize(self.events_path)
                        if os.path.exists(self.events_path) else 0)
                if seen != last_seen:
                    last_seen, last_change = seen, time.monotonic()
                elif time.monotonic() - last_change > STALL_SECONDS:
                    proc.kill()
                    proc.wait()
                    return proc, "hang: no progress for %d s" % STALL_SECONDS
        if proc.returncode < 0:
            return proc, "killed by %s" % signal.Signals(-proc.returncode).name
        return proc, "exited with status %d" % proc.returncode


def selftest(python, out):
    """The attack must report what it exists to catch: with failures planted on purpose
    (targets.plant_selftest), a wrong result, a leaked handle, a caught panic and a crash, and
    the target after the crash must still be attacked. True if all were reported."""
    env = {"HPYRS_ATTACK_SELFTEST": "1"}
    rawadd = Job("selftest", python, "rawadd", os.environ["HPYRS_RAWADD_SO"], "debug", 30, 0, out, env=env).run()
    quickstart = Job("selftest", python, "quickstart", os.environ["HPYRS_QUICKSTART_SO"], "universal", 10, 0, out,
                     only="quickstart.panics", env=env).run()

    def failed(job, target, text):
        failure = job.done.get(target, {}).get("failure") or ""
        return text in failure
    checks = [
        ("a result that differs from the reference", failed(rawadd, "rawadd.add", "differs from Python")),
        ("a leaked handle (debug mode)", failed(rawadd, "rawadd.leak", "handle(s) left open")),
        ("a Rust panic that is not allowed", failed(quickstart, "quickstart.panics", "a Rust panic reached Python")),
        ("a crash, with the call that made it", any(c["target"] == "rawadd.ctx_name" and "SIGABRT" in c["how"]
                                                   and "m.ctx_name(" in c["call"] for c in rawadd.crashes)),
        ("the targets after a crash", "rawadd.leak" in rawadd.done),
    ]
    for what, ok in checks:
        print("self-test: %s %s" % (what, "is reported" if ok else "WAS NOT REPORTED"))
    return all(ok for _, ok in checks)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=int(os.environ.get("HPYRS_ATTACK_EXAMPLES", "30")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("HPYRS_ATTACK_SEED", "0")))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("HPYRS_ATTACK_JOBS", str(os.cpu_count() or 2))))
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "attack"))
    parser.add_argument("--modules", default=",".join(MODULES))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--selftest", action="store_true", help="first check that planted failures are reported")
    parser.add_argument("pythons", nargs="+", help="minor=path of each interpreter")
    options = parser.parse_args()

    if options.selftest and not selftest(options.pythons[-1].split("=", 1)[1], options.out):
        print("attack: the self-test failed: the attack would miss failures")
        return 1

    modes = options.modes.split(",")
    native = NATIVE_MODE in modes
    if native and modes != [NATIVE_MODE]:
        print("attack: --modes native is a run of its own (the HPYRS_<MODULE>_SO variables name one build)")
        return 2
    modules = options.modules.split(",")
    if native:
        for module in [m for m in modules if m in NOT_NATIVE]:
            print("attack: %s not attacked in native mode: %s" % (module, NOT_NATIVE[module]))
        modules = [m for m in modules if m not in NOT_NATIVE]
    jobs = []
    missing = []
    for module in modules:
        so = os.environ.get("HPYRS_%s_SO" % module.upper())
        if not so or not os.path.exists(so):
            missing.append(module)
            continue
        for spec in options.pythons:
            minor, python = spec.split("=", 1)
            for mode in modes:
                jobs.append(Job(minor, python, module, so, mode, options.examples, options.seed, options.out))
    if missing:
        print("attack: no built module for %s (HPYRS_<MODULE>_SO)" % ", ".join(missing))
        return 1
    # the slow jobs first, so that two cores stay busy to the end
    weight = {"apitest": 0, "geometry": 1, "errors": 2, "protocols": 3, "containers": 4, "stdtypes": 5, "quickstart": 6,
              "tree": 7, "inherit": 8, "layout": 9, "rawadd": 10}
    jobs.sort(key=lambda j: (weight.get(j.module, 9), j.mode != "debug"))
    print("attack: %d examples per target and run; %d runs (%d interpreters x %d modules x %d modes), %d at a time"
          % (options.examples, len(jobs), len(options.pythons), len(modules), len(modes), options.jobs), flush=True)
    started = time.monotonic()
    lock = threading.Lock()

    def run(job):
        job.run()
        with lock:
            failures = sum(1 for d in job.done.values() if d["failure"])
            print("  %-34s %4d targets %7d calls %6.1f s%s%s" % (
                job.name, len(job.done), sum(d["calls"] for d in job.done.values()), job.seconds,
                "  %d FAILED" % failures if failures else "", "  %d CRASHED" % len(job.crashes) if job.crashes else ""),
                flush=True)
        return job

    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        done = list(pool.map(run, jobs))
    return report(done, options, time.monotonic() - started)


def report(jobs, options, seconds):
    bad = 0
    print("\n== attack: counts")
    by_python = {}
    for job in jobs:
        by_python.setdefault(job.minor, []).append(job)
    total_targets = total_calls = total_examples = total_runs = 0
    for minor, group in by_python.items():
        runs = [d for j in group for d in j.done.values()]
        calls = sum(d["calls"] for d in runs)
        examples = sum(d["examples"] for d in runs)
        skipped = sum(len(j.skipped) for j in group)
        failures = sum(1 for d in runs if d["failure"])
        crashes = sum(len(j.crashes) for j in group)
        targets = len({(j.module, t) for j in group for t in j.done})
        total_targets = max(total_targets, targets)
        total_calls += calls
        total_examples += examples
        total_runs += len(runs)
        print("CPython %-5s %4d targets attacked in %d modes, %7d calls, %5.1f examples per target and run, "
              "%d skipped, %d failures, %d crashes, %5.1f s of worker time" % (
                  minor, targets, len({j.mode for j in group}), calls, examples / max(len(runs), 1), skipped,
                  failures, crashes, sum(j.seconds for j in group)))
    print("total: %d target runs, %d calls, %d examples (%.1f per target and run); %.0f s" % (
        total_runs, total_calls, total_examples, total_examples / max(total_runs, 1), seconds))

    skip_reasons = {}
    for job in jobs:
        for target, reason in job.skipped.items():
            skip_reasons.setdefault(reason, set()).add((target, job.minor, job.mode))
    for reason, targets in sorted(skip_reasons.items()):
        print("skipped, %d target runs: %s" % (len(targets), reason))
    for note in sorted({n for j in jobs for n in j.notes}):
        print("note: %s" % note)

    brief = []  # what the last line names, for a summary that shows only that line
    problems = sorted({p for j in jobs for p in j.problems})
    brief += problems
    if problems:
        bad += len(problems)
        print("\n== attack: coverage problems")
        for p in problems:
            print("  " + p)
    # every discovered target must have been attacked (or skipped with a reason, or crashed)
    for job in jobs:
        unattacked = [t for t in job.discovered if t not in job.done and t not in job.skipped
                      and t not in {c["target"] for c in job.crashes}]
        if unattacked and not any(c["target"] is None for c in job.crashes):
            bad += 1
            print("coverage: %s left %s unattacked" % (job.name, ", ".join(unattacked)))
            brief.append("%s left %s unattacked" % (job.name, ", ".join(unattacked)))
        zero = [t for t, d in job.done.items() if d["calls"] == 0]
        if zero:
            bad += 1
            print("coverage: %s made no call to %s" % (job.name, ", ".join(zero)))
            brief.append("%s made no call to %s" % (job.name, ", ".join(zero)))

    failures = [(j, d) for j in jobs for d in j.done.values() if d["failure"]]
    if failures:
        print("\n== attack: %d failures" % len(failures))
        for job, d in failures:
            bad += 1
            print("\n[%s %s] %s" % (job.minor, job.mode, d["failure"]))
            brief.append("failure [%s %s] %s" % (job.minor, job.mode, d["failure"].splitlines()[0][:160]))
    crashes = [(j, c) for j in jobs for c in j.crashes]
    if crashes:
        print("\n== attack: %d crashes" % len(crashes))
        for job, c in crashes:
            bad += 1
            brief.append("crash [%s %s] %s: %s" % (job.minor, job.mode, c["target"] or job.module, c["how"]))
            lines = [line for line in c["stderr"].splitlines()
                     if line.strip() and not line.startswith(("  File", "Current thread", "Extension modules"))]
            print("\n[%s %s] %s: %s, while calling\n    %s" % (
                job.minor, job.mode, c["target"] or job.module, c["how"], c["call"].replace("\n", "\n    ")))
            print("  last lines of its stderr:\n    " + "\n    ".join(lines[-6:]))
            if c.get("reproducer"):
                print("  replay: %s%s tests/attack/replay.py --module %s --so %s --mode %s %s" % (
                    "HPYRS_ABI=native " if job.mode == NATIVE_MODE else "", job.python, job.module, job.so,
                    job.mode, os.path.relpath(c["reproducer"], ROOT)))
    print("\nattack: %s" % ("%d problem(s): %s" % (bad, "; ".join(brief)[:600]) if bad else "no failure, no crash"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
