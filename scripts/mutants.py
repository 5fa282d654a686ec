#!/usr/bin/env python3
"""scripts/mutants.py LIST.json [TARGET [COMMAND...]]

A hand-written mutation survey: does the suite notice a small change to the
code? LIST.json is an array of [file, old text, new text] (tests/mutants/);
each mutant replaces the first occurrence of `old text` in `file` (relative
to the repository), rebuilds TARGET in build/ (default domain_test) and runs
COMMAND (default build/actors/domain_test). The mutant is "killed" when
COMMAND fails ("killed-by-timeout" past CALLQ_MUTANTS_TIMEOUT, 600 s),
"SURVIVED" when it passes (a check is missing, or the mutant is
equivalent), "BUILD-FAIL" when it does not compile, "MISSING" when the
text is no longer in the file (the code moved on: update the list). The
file is restored after each mutant, whatever happens. Prints one line per
mutant and the counts; exit 0, or 2 on bad arguments. Run it on a clean
tree with build/ configured (./scripts/build.sh), nothing else building;
Python 3 comes with `./scripts/install-deps.sh mutants`.
"""
import json
import os
import signal
import subprocess
import sys


def main() -> int:
    # A kill restores the mutated file too (the `finally` below runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    # A mutant that makes the tests loop forever is noticed too: the command
    # is stopped after this long and the mutant counted as killed.
    timeout_text = os.environ.get("CALLQ_MUTANTS_TIMEOUT", "600")
    if not timeout_text.isdigit() or int(timeout_text) == 0:
        print(f"mutants.py: CALLQ_MUTANTS_TIMEOUT must be a whole number of seconds, not '{timeout_text}'",
              file=sys.stderr)
        return 2
    timeout_s = int(timeout_text)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(sys.argv[1]) as f:
            mutants = json.load(f)
        assert isinstance(mutants, list) and all(
            isinstance(m, list) and len(m) == 3 and all(isinstance(x, str) for x in m) for m in mutants)
    except (OSError, ValueError, AssertionError) as e:
        print(f"mutants.py: {sys.argv[1]} is not a list of [file, old, new]: {e}", file=sys.stderr)
        return 2
    target = sys.argv[2] if len(sys.argv) > 2 else "domain_test"
    command = sys.argv[3:] or ["build/actors/domain_test"]
    if not os.path.isdir(os.path.join(root, "build")):
        print("mutants.py: build/ is missing: run ./scripts/build.sh first", file=sys.stderr)
        return 2
    counts = {}
    for i, (path, old, new) in enumerate(mutants):
        full = os.path.join(root, path)
        with open(full) as f:
            text = f.read()
        if old not in text:
            result = "MISSING"
        else:
            with open(full, "w") as f:
                f.write(text.replace(old, new, 1))
            try:
                built = subprocess.run(["cmake", "--build", "build", "-j2", "--target", target], cwd=root,
                                       capture_output=True, text=True)
                if built.returncode != 0:
                    result = "BUILD-FAIL"
                else:
                    try:
                        ran = subprocess.run(command, cwd=root, capture_output=True, text=True,
                                             timeout=timeout_s)
                        result = "killed" if ran.returncode != 0 else "SURVIVED"
                    except subprocess.TimeoutExpired:  # a mutant that loops: noticed
                        result = "killed-by-timeout"
            finally:
                with open(full, "w") as f:
                    f.write(text)
        counts[result] = counts.get(result, 0) + 1
        print(f"[{i}] {result} {path}: {old!r} -> {new!r}", flush=True)
    # Leave the build matching the restored sources.
    subprocess.run(["cmake", "--build", "build", "-j2", "--target", target], cwd=root, capture_output=True)
    print("mutants.py: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
