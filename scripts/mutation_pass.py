"""A fast pass over mutmut's mutants: one pytest session for all of them.

`mutmut run` starts a pytest session per mutant, and each session builds the app again
(migrations, the demo data): seconds before the first test, hours for the policy's 1,000+
mutants on two cores. This pass generates the same mutants with mutmut (its trampolines
switch a mutant on by name at each call), then, in ONE session:

1. runs every selected test clean, recording which functions each one calls (the
   trampolines' own "stats" mode, as mutmut records them);
2. for each mutant, runs the tests that call its function, cheapest expected kill first
   (a test's clean time over its kill rate so far), and stops at the first failure: of the
   test itself, or of its teardown (fresh_db checks the kept figures there), which runs
   clean; a test past its time limit counts as caught, as in mutmut;
3. after each mutant ends the fixtures of modules and classes (one built while a mutant
   was on would serve the next mutants), puts the demo data back when anything was
   written, and runs the killing test again clean (a canary): a kill whose canary fails
   is tried once more, then reported "unsure", not counted.

Functions called only while a module is imported cannot be switched at a call: their
mutants have no test here ("no tests"), as with mutmut.

    python scripts/mutation_pass.py generate                   in a folder with mutmut's config
    cd mutants && python -m pytest -p mutation_pass TESTS...   (PYTHONPATH=scripts)

`scripts/mutation.sh --fast` runs both and prints the score; results in mutation-pass.json
(and every 25 mutants in mutation-pass.partial.json). MUTATION_ONLY="name pattern…" tries
only those mutants, e.g. a run's survivors again after new tests.

MUTATION_KEPT=FILE keeps the results across runs (a module of 1,300 mutants takes longer than
one sitting): a mutant judged in an earlier run is not tried again while its function's source
is unchanged (mutmut's hash of it) and, for a kill, its killing test is still selected; the
file is written again every 25 mutants, so a run stopped halfway loses at most 25. With
MUTATION_ONLY the mutants named are tried whatever the file holds.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import call_and_report

RESULTS = Path("mutation-pass.json")
PARTIAL = Path("mutation-pass.partial.json")
LIMIT_FACTOR, LIMIT_FLOOR = 10, 30.0  # a test's time limit: its clean time × 10, at least 30 s


def generate() -> None:
    """mutmut's mutants of the configured module under mutants/ (and their *.meta); no test runs."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(1)


def _mutants() -> dict[str, str]:
    """Every mutant's name → the hash of its function's source (mutmut's, for its own
    incremental runs): a kept result holds while that hash does."""
    from mutmut.utils.format_utils import get_mutant_name, mangled_name_from_mutant_name

    found: dict[str, str] = {}
    for meta in sorted(Path(".").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        source = meta.with_suffix("")  # coop/x.py.meta → coop/x.py
        hashes = {
            get_mutant_name(source, function): digest
            for function, digest in data["hash_by_function_name"].items()
        }
        for name in data["exit_code_by_key"]:
            found[name] = hashes.get(mangled_name_from_mutant_name(name), "")
    return found


def _named(names: list[str]) -> set[str] | None:
    """Those MUTATION_ONLY names (shell patterns, space-separated: a run's survivors tried
    again against the tests written since); None when it names none."""
    only = os.environ.get("MUTATION_ONLY", "").split()
    return {name for name in names if any(fnmatch(name, pattern) for pattern in only)} if only else None


class Kept:
    """The results of earlier runs, in a file the repository keeps (MUTATION_KEPT)."""

    REUSED = ("killed", "survived")  # "unsure" and "no tests" are tried again

    def __init__(self, path: str, hashes: dict[str, str], commit: str) -> None:
        self.path = Path(path) if path else None
        self.hashes = hashes
        self.commit = commit
        saved = json.loads(self.path.read_text())["mutants"] if self.path and self.path.exists() else {}
        # A result of another source of its function (or of a mutant gone) is no result.
        self.results: dict[str, dict[str, Any]] = {
            name: result for name, result in saved.items() if hashes.get(name) == result.get("function")
        }

    def get(self, name: str, selected: set[str]) -> dict[str, Any] | None:
        """The kept result of `name`, if it still holds with the tests selected now."""
        result = self.results.get(name)
        if result is None or result["status"] not in self.REUSED:
            return None
        if result["status"] == "killed" and result["test"] not in selected:
            return None
        return result

    def save(self, results: dict[str, dict[str, Any]]) -> None:
        """`results` (this run's) over what was kept; one line a mutant, sorted, for diffs."""
        if self.path is None:
            return
        for name, result in results.items():
            if result["status"] != "not tried" and not result.get("kept"):
                self.results[name] = {**result, "function": self.hashes[name], "commit": self.commit}
        lines = [
            f"  {json.dumps(name)}: {json.dumps(self.results[name], ensure_ascii=False)}"
            for name in sorted(self.results)
        ]
        self.path.write_text('{"mutants": {\n' + ",\n".join(lines) + "\n}}\n")


def _switch(name: str) -> None:
    from mutmut.mutation.trampoline import set_mutant_under_test

    set_mutant_under_test(name)


class _TimeLimit(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _TimeLimit("the test ran past its time limit")


class _Keep:
    """A teardown's `nextitem` that keeps what the item's module, class and session set up
    (pytest tears down what the next item does not descend from): only the test's own
    fixtures end, so its teardown's outcome is known before the next test is chosen."""

    def __init__(self, item: pytest.Item) -> None:
        self.chain = item.listchain()[:-1]

    def listchain(self) -> list[Any]:
        return self.chain


class _Outer:
    """A `nextitem` for tearing down every module's and class's fixtures (the session's stay):
    one a mutant's test set up would serve the next mutant's tests with what it built."""

    def __init__(self, item: pytest.Item) -> None:
        self.chain = [
            node
            for node in item.listchain()
            if not isinstance(node, (pytest.Module, pytest.Class, pytest.Item))
        ]

    def listchain(self) -> list[Any]:
        return self.chain


class MutationPass:
    def __init__(self) -> None:
        self.duration: dict[str, float] = {}
        self.calls: dict[str, set[str]] = {}  # function (mutmut's mangled name) → tests calling it
        self.kills: Counter[str] = Counter()
        self.tries: Counter[str] = Counter()  # mutants a test was run against
        self.app: Any = None
        self.failing_after: list[str] = []
        self.final_clean = False

    def _run(self, session: pytest.Session, item: pytest.Item, mutant: str) -> bool:
        """Run `item` with `mutant` on ("" clean, "stats" recording the calls), its teardown
        clean: passed (or skipped), teardown included?"""
        _switch("")
        session._setupstate.teardown_exact(item)  # the fixtures of another module or class end
        if hasattr(item, "_request") and not item._request:
            item._initrequest()
        limit = max(LIMIT_FLOOR, LIMIT_FACTOR * self.duration.get(item.nodeid, LIMIT_FLOOR))
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        started = time.monotonic()
        try:
            _switch(mutant)
            report = call_and_report(item, "setup", log=False)
            passed = report.passed or report.skipped
            if report.passed:
                passed = not call_and_report(item, "call", log=False).failed
        finally:
            _switch("")
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        elapsed = time.monotonic() - started
        self.app = (getattr(item, "funcargs", None) or {}).get("app", self.app)
        passed = not call_and_report(item, "teardown", log=False, nextitem=_Keep(item)).failed and passed
        if hasattr(item, "_request"):
            item._request = False
            item.funcargs = None
        if mutant in ("", "stats"):
            self.duration[item.nodeid] = elapsed
        return passed

    def _settle(self) -> None:
        """The demo data back if anything more than signing in was written (tests/conftest.py)."""
        conftest = sys.modules.get("tests.conftest")
        if conftest is None or self.app is None or conftest._written <= conftest._HARMLESS:
            return
        from coop.extensions import db

        with self.app.app_context():
            db.session.rollback()
            conftest._restore(self.app.config["DEMO_SNAPSHOT"])
        conftest._written.clear()

    def _expected_cost(self, item: pytest.Item) -> float:
        """Seconds spent per kill by this test: its clean time over its kill rate so far
        (one kill in two tries assumed before any is seen). A slow test that kills often
        waits behind a fast one that sometimes does."""
        nodeid = item.nodeid
        rate = (self.kills[nodeid] + 1) / (self.tries[nodeid] + 2)
        return self.duration.get(nodeid, LIMIT_FLOOR) / rate

    def _first_failure(
        self, session: pytest.Session, mutant: str, tests: list[pytest.Item]
    ) -> pytest.Item | None:
        for item in tests:
            self.tries[item.nodeid] += 1
            if not self._run(session, item, mutant):
                return item
        return None

    def _reset(self, session: pytest.Session, item: pytest.Item) -> None:
        """After a mutant: the fixtures of modules and classes end, the demo data goes back."""
        _switch("")
        try:
            session._setupstate.teardown_exact(_Outer(item))  # type: ignore[arg-type]
        except Exception as error:  # a module fixture built by a mutant may fail its teardown
            print(f"teardown after a mutant: {error!r}", file=sys.stderr)
        self._settle()

    def _kill(self, session: pytest.Session, mutant: str, tests: list[pytest.Item]) -> tuple[str, str]:
        """(status, the killing test): killed, survived, or unsure (its canary failed twice)."""
        killer = None
        for _attempt in range(2):
            killer = self._first_failure(session, mutant, tests)
            self._reset(session, tests[0])
            if killer is None:
                return "survived", ""
            canary = self._run(session, killer, "")
            self._reset(session, tests[0])
            if canary:
                return "killed", killer.nodeid
        assert killer is not None
        return "unsure", killer.nodeid

    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        from mutmut.state import state
        from mutmut.utils.format_utils import mangled_name_from_mutant_name

        items = list(session.items)
        by_id = {item.nodeid: item for item in items}
        for item in items:  # clean, recording which functions each test calls
            state()._stats.clear()
            if not self._run(session, item, "stats"):
                print(f"\nThe clean run fails at {item.nodeid}: no mutant tried.", file=sys.stderr)
                session.testsfailed = 1
                return True
            for function in state()._stats:
                self.calls.setdefault(function, set()).add(item.nodeid)
        self._settle()
        hashes = _mutants()
        kept = Kept(os.environ.get("MUTATION_KEPT", ""), hashes, os.environ.get("MUTATION_COMMIT", ""))
        named = _named(list(hashes))
        results: dict[str, Any] = {}
        mutants = []
        for name in hashes:
            reused = None if named is not None and name in named else kept.get(name, set(by_id))
            if reused is not None:
                results[name] = {**reused, "kept": True}
            elif named is None or name in named:
                mutants.append(name)
            else:
                results[name] = {"status": "not tried"}
        judged = sum(1 for result in results.values() if result.get("kept"))
        untried = len(results) - judged
        print(f"{judged} mutants judged before, {len(mutants)} to try, {untried} not tried", flush=True)
        started = time.monotonic()
        for number, mutant in enumerate(mutants, 1):
            called = self.calls.get(mangled_name_from_mutant_name(mutant), set())
            tests = sorted((by_id[nodeid] for nodeid in called), key=self._expected_cost)
            if not tests:
                results[mutant] = {"status": "no tests"}
                continue
            began = time.monotonic()
            status, test = self._kill(session, mutant, tests)
            if status == "killed":
                self.kills[test] += 1
            results[mutant] = {"status": status, "test": test, "seconds": round(time.monotonic() - began, 1)}
            if number % 25 == 0 or number == len(mutants):
                done = dict(Counter(result["status"] for result in results.values()))
                print(f"{number}/{len(mutants)} in {time.monotonic() - started:.0f} s: {done}", flush=True)
                # So far, for a run stopped before its end (no "clean_after" yet).
                so_far = {"tried": number, "mutants": results}
                PARTIAL.write_text(json.dumps(so_far, indent=1, ensure_ascii=False))
                kept.save(results)
        session._setupstate.teardown_exact(None)
        # The tests pass clean after all mutants: no kill was bought by data a mutant broke.
        # Each one run and named if it fails (a time limit counts wall time: a machine loaded
        # meanwhile may fail a slow test).
        self.failing_after = [item.nodeid for item in items if not self._run(session, item, "")]
        self.final_clean = not self.failing_after
        session._setupstate.teardown_exact(None)
        kept.save(results)
        RESULTS.write_text(
            json.dumps(
                {"clean_after": self.final_clean, "failing_after": self.failing_after, "mutants": results},
                indent=1,
                ensure_ascii=False,
            )
        )
        return True


def pytest_configure(config: pytest.Config) -> None:
    _switch("")
    config.pluginmanager.register(MutationPass(), "mutation-pass-runner")


if __name__ == "__main__":
    if sys.argv[1:] == ["generate"]:
        os.environ.pop("DATABASE_URL", None)
        generate()
    else:
        sys.exit(__doc__)
