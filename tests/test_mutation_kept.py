"""scripts/mutation_pass.py's kept results: a mutant judged before is not tried again while
its function's source and its killing test are what they were."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

KILLER = "tests/test_timing.py::test_one"


@pytest.fixture(scope="module")
def mutation_pass() -> ModuleType:
    path = Path(__file__).parents[1] / "scripts" / "mutation_pass.py"
    spec = importlib.util.spec_from_file_location("mutation_pass", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kept_file(tmp_path: Path) -> Path:
    path = tmp_path / "kept.json"
    path.write_text(
        json.dumps(
            {
                "mutants": {
                    "m.x_f__mutmut_1": {
                        "status": "killed",
                        "test": KILLER,
                        "function": "aaa",
                        "commit": "c1",
                    },
                    "m.x_f__mutmut_2": {"status": "survived", "test": "", "function": "aaa", "commit": "c1"},
                    "m.x_f__mutmut_3": {
                        "status": "unsure",
                        "test": KILLER,
                        "function": "aaa",
                        "commit": "c1",
                    },
                    "m.x_g__mutmut_1": {
                        "status": "killed",
                        "test": KILLER,
                        "function": "bbb",
                        "commit": "c1",
                    },
                    "m.x_gone__mutmut_1": {
                        "status": "killed",
                        "test": KILLER,
                        "function": "ccc",
                        "commit": "c1",
                    },
                }
            }
        )
    )
    return path


def test_a_result_holds_while_its_function_and_killing_test_do(
    mutation_pass: ModuleType, tmp_path: Path
) -> None:
    hashes = {
        "m.x_f__mutmut_1": "aaa",
        "m.x_f__mutmut_2": "aaa",
        "m.x_f__mutmut_3": "aaa",
        "m.x_g__mutmut_1": "new",
    }
    kept = mutation_pass.Kept(str(_kept_file(tmp_path)), hashes, "c2")
    selected = {KILLER}
    assert kept.get("m.x_f__mutmut_1", selected)["status"] == "killed"
    assert kept.get("m.x_f__mutmut_2", selected)["status"] == "survived"
    assert kept.get("m.x_f__mutmut_3", selected) is None  # unsure: tried again
    assert kept.get("m.x_g__mutmut_1", selected) is None  # its function changed
    assert kept.get("m.x_f__mutmut_1", set()) is None  # its killing test is no longer run
    assert kept.get("m.x_f__mutmut_2", set())["status"] == "survived"


def test_saving_adds_this_runs_results_and_keeps_the_earlier_ones_as_they_were(
    mutation_pass: ModuleType, tmp_path: Path
) -> None:
    path = _kept_file(tmp_path)
    hashes = {
        "m.x_f__mutmut_1": "aaa",
        "m.x_f__mutmut_2": "aaa",
        "m.x_g__mutmut_1": "new",
        "m.x_h__mutmut_1": "ddd",
    }
    kept = mutation_pass.Kept(str(path), hashes, "c2")
    reused = {**kept.get("m.x_f__mutmut_1", {KILLER}), "kept": True}
    kept.save(
        {
            "m.x_f__mutmut_1": reused,
            "m.x_f__mutmut_2": {"status": "killed", "test": KILLER, "seconds": 1.5},
            "m.x_g__mutmut_1": {"status": "survived", "test": "", "seconds": 9.0},
            "m.x_h__mutmut_1": {"status": "not tried"},
        }
    )
    saved = json.loads(path.read_text())["mutants"]
    assert saved == {
        "m.x_f__mutmut_1": {"status": "killed", "test": KILLER, "function": "aaa", "commit": "c1"},
        "m.x_f__mutmut_2": {
            "status": "killed",
            "test": KILLER,
            "seconds": 1.5,
            "function": "aaa",
            "commit": "c2",
        },
        "m.x_g__mutmut_1": {
            "status": "survived",
            "test": "",
            "seconds": 9.0,
            "function": "new",
            "commit": "c2",
        },
    }
    assert path.read_text().count("\n") == len(saved) + 2  # one line a mutant


def test_no_file_named_keeps_nothing(mutation_pass: ModuleType) -> None:
    kept = mutation_pass.Kept("", {"m.x_f__mutmut_1": "aaa"}, "c2")
    assert kept.get("m.x_f__mutmut_1", {KILLER}) is None
    kept.save({"m.x_f__mutmut_1": {"status": "killed", "test": KILLER}})
