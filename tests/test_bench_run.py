"""The benchmark's pure helpers: the site comparison and the plain baseline's configuration.

Only correctness is tested here; timings live in benchmarks/run.py, never in `make test`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from bench_scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script("run")


def write(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_equal_trees_are_identical(bench: ModuleType, tmp_path: Path) -> None:
    files = {"index.html": b"<p>1</p>", "glossary/pod/index.html": b"pod", "search.json": b"{}"}
    diff = bench.compare_trees(write(tmp_path / "a", files), write(tmp_path / "b", files))
    assert diff.identical
    assert diff.files == 3
    assert diff.summary() == "identical (3 files)"


def test_one_byte_a_missing_and_an_extra_file_are_each_reported(
    bench: ModuleType, tmp_path: Path
) -> None:
    left = write(tmp_path / "a", {"same": b"x", "changed": b"old", "extra/only-left": b""})
    right = write(tmp_path / "b", {"same": b"x", "changed": b"olD", "only-right": b""})
    diff = bench.compare_trees(left, right)
    assert not diff.identical
    assert diff.differ == ("changed",)
    assert diff.only_left == ("extra/only-left",)
    assert diff.only_right == ("only-right",)
    assert "`changed`" in diff.summary() and "`only-right`" in diff.summary()


def test_changed_files_counts_added_removed_and_edited(bench: ModuleType) -> None:
    before = {"a": "1", "b": "2", "c": "3"}
    after = {"a": "1", "b": "9", "d": "4"}
    assert bench.changed_files(before, after) == 3  # b edited, c removed, d added


def test_the_plain_baseline_has_the_sites_search_and_its_pages_out_of_the_nav(
    bench: ModuleType,
) -> None:
    config = bench.plain_config(ROOT / "mkdocs.yml")
    search = config["plugins"][0]["search"]
    assert search["lang"] == ["ru", "en"]
    assert search["separator"]
    assert config["theme"] == {"name": "material", "font": False, "language": "ru"}
    assert config["not_in_nav"].strip() == "/p/"


def test_a_clean_bench_project_has_none_of_the_paths_a_build_generates(
    bench: ModuleType,
) -> None:
    # "Cold" means what `make clean` leaves: the benchmark removes the same paths.
    from konspekt.project import generated_paths

    removed = {f"docs/{name}" for name in bench.GENERATED_DOCS} | {".cache", "dist", "site"}
    assert set(generated_paths()) <= removed


def test_a_probe_times_creating_files_and_a_loop_and_leaves_nothing(
    bench: ModuleType, tmp_path: Path
) -> None:
    create, loop = bench.probe_machine(tmp_path)
    assert create > 0 and loop > 0
    assert list(tmp_path.iterdir()) == []


def test_each_run_is_reported_with_the_probe_before_it(bench: ModuleType) -> None:
    """Which run met a slow minute: the probes show beside the runs, and in the summary."""
    run = bench.Run(
        "pages", 5000, seconds=4.7, repeats=[5.9, 4.7], probes=[[1.42, 0.05], [0.08, 0.05]]
    )
    results = bench.Results({"sizes": [5000], "runs": [bench.asdict(run)]})
    assert bench.probe_lines(results, 5000)[-1] == (
        "| page generation | 5.90 (1.42 / 0.05); 4.70 (0.08 / 0.05) |"
    )
    [summary] = bench._probe_summary(results)
    assert "creating 2,000 empty files 0.08–1.42 s (median 0.75)" in summary
