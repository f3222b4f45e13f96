"""bench/report.py renders a benchmark record into bench/README.md, and the README shows the newest one.

No benchmark runs here: the records are synthetic except the committed ones under bench/results/.
"""

from __future__ import annotations

import json

import pytest

from bench import compiled, record, report


def _meta(**extra) -> dict:
    meta = {"date_utc": "2026-01-02T03:04:05+00:00", "commit": "0123456789abcdef0123456789abcdef01234567",
            "dirty": False, "quick": False, "repeats": 10, "command": "python -m bench --repeats 10 --record",
            "threads": {"requested": 2}, "cpu_model": "Some CPU", "cores_usable": 2, "cpu_count": 2,
            "load_before": [0.5, 0.4, 0.3], "load_after": [1.25, 0.6, 0.4],
            "numpy": "2.0.0", "torch": "2.1.0", "python": "3.11.7",
            "blas": [{"internal_api": "openblas", "version": "0.3.31", "architecture": "Haswell", "num_threads": 2}],
            "peak": {"n": 1024, "numpy_gflops": 100.0, "torch_gflops": 90.0}}
    meta.update(extra)
    return meta


def _row(name: str, unit: str = "s", status: str = "ok", **values) -> dict:
    row = {"name": name, "unit": unit, "status": status, "ours": None, "torch": None, "ratio": None,
           "ours_gflops": None, "torch_gflops": None, "peak_share": None, "missing": [], "error": None}
    row.update(values)
    return row


ROWS = [
    _row("conv", ours=0.05, torch=0.04, ratio=1.25, ours_gflops=50.0, torch_gflops=62.5, peak_share=0.5),
    _row("overhead", ours=0.0125, torch=0.00625, ratio=2.0),
    _row("tiny", ours=0.0005, torch=0.00025, ratio=2.0),
    _row("missing", status="n/a", torch=0.001, missing=["nn.Foo", "bar"]),
    _row("memory_steady", unit="MiB", ours=42.0, torch=46.0, ratio=42.0 / 46.0),
]


def test_render_gives_one_row_per_workload_and_says_where_it_came_from():
    text = report.render({"meta": _meta(), "results": ROWS}, "bench/results/2026-01-02-0123456.json")
    lines = text.splitlines()
    assert lines[0] == "Generated from `bench/results/2026-01-02-0123456.json`:"
    assert "`python -m bench --repeats 10 --record`; 2 threads for both frameworks" in text
    assert "`0123456789abcdef0123456789abcdef01234567` (clean tree), 2026-01-02 03:04:05 UTC" in text
    assert "Some CPU, 2 cores; load average 0.50 before the run, 1.25 after" in text
    assert "NumPy 2.0.0 (OpenBLAS 0.3.31, Haswell kernels), PyTorch 2.1.0, Python 3.11.7" in text
    assert "matmul peak: 100.0 GFLOP/s (NumPy float32 1024x1024" in text
    table = lines[lines.index("| workload | chainrule | PyTorch | chainrule / PyTorch | GFLOP/s chainrule "
                              "| GFLOP/s PyTorch | % of peak |") + 2:]
    assert table[:5] == [
        "| conv | 50.00 ms | 40.00 ms | 1.25x | 50.0 | 62.5 | 50.0% |",
        "| overhead | 12.50 ms | 6.25 ms | 2.00x | - | - | - |",
        "| tiny | 500.0 us | 250.0 us | 2.00x | - | - | - |",
        "| missing | n/a | 1.00 ms | - | - | - | - |",
        "| memory_steady | 42.0 MiB | 46.0 MiB | 0.91x | - | - | - |",
    ]
    assert table[6] == "- missing: n/a, chainrule lacks nn.Foo, bar"


def test_render_marks_a_dirty_tree_and_the_compiled_kernels():
    meta = _meta(dirty=True, threads={"requested": 1}, jit={"enabled": True, "numba": "0.60.0"})
    text = report.render({"meta": meta, "results": ROWS[:1]}, "r.json")
    assert "(uncommitted changes to tracked files)" in text
    assert "1 thread for both frameworks" in text
    assert "; compiled kernels on (numba 0.60.0)" in text


def test_render_adds_the_compiled_table_only_for_records_with_compiled_workloads():
    compiled_row = _row("mlp_compiled", ours=0.004, torch=0.005, ratio=0.8,
                        compiled={"backend": "inductor", "compile_s": 0.25, "graph_compile_seconds": 0.0125,
                                  "graphs": 1, "calls": {"recorded": 1, "replayed": 40, "eager": 0}, "fallbacks": [],
                                  "buffer_bytes": 3 * 2**19},
                        torch_compile={"status": "ok", "median": 0.002, "ratio": 2.0, "compile_s": 9.5})
    broken_row = _row("lenet_compiled", ours=0.01, torch=0.01, ratio=1.0,
                      compiled={"backend": "inductor", "compile_s": 0.005, "graph_compile_seconds": 0.001,
                                "graphs": 0, "calls": {"recorded": 1, "replayed": 0, "eager": 40},
                                "fallbacks": ["an in-place write (model.py:3)"]},
                      torch_compile={"status": "n/a", "reason": "InvalidCxxCompiler: no working C++ compiler | found"})
    meta = _meta(compile_backend="inductor", jax="n/a (JAX is not installed)")
    text = report.render({"meta": meta, "results": [*ROWS[:1], compiled_row, broken_row]}, "r.json")
    lines = text.splitlines()
    assert "| mlp_compiled | 4.00 ms | 5.00 ms | 0.80x | - | - | - |" in lines  # in the main table as any row
    start = lines.index("| " + " | ".join(compiled.HEAD) + " |")
    assert lines[start + 2:start + 4] == [
        "| mlp_compiled | 250.00 ms | 12.50 ms | 1 | 40 / 0 | 1.50 MiB | none | 2.00 ms | 2.00x | 9.500 s |",
        "| lenet_compiled | 5.00 ms | 1.00 ms | 0 | 0 / 40 | - | an in-place write (model.py:3) | "
        "n/a (InvalidCxxCompiler: no working C++ compiler \\| found) | - | - |",
    ]
    assert "chainrule.compile backend inductor" in text and "JAX: n/a (JAX is not installed)" in text
    plain = report.render({"meta": _meta(), "results": ROWS}, "r.json")
    assert "Compiled workloads" not in plain and "torch.compile" not in plain


def _readme(tmp_path, middle: str = "stale table") -> tuple:
    readme = tmp_path / "README.md"
    before, after = "# bench\n\nintro\n\n", "\n\n## History\n\nsee the log\n"
    readme.write_text(f"{before}{report.BEGIN}\n\n{middle}\n\n{report.END}{after}")
    return readme, before, after


def _write(directory, name: str, meta: dict) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(json.dumps({"meta": meta, "results": ROWS}))


def test_check_detects_a_stale_readme_and_writing_fixes_only_the_block(tmp_path, capsys):
    results = tmp_path / "results"
    _write(results, "2026-01-02-0123456.json", _meta())
    readme, before, after = _readme(tmp_path)
    args = ["--results", str(results), "--readme", str(readme)]
    assert report.main([*args, "--check"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is not the one" in err and "2026-01-02-0123456.json" in err
    assert "stale table" in readme.read_text()  # --check writes nothing

    assert report.main(args) == 0
    text = readme.read_text()
    assert text.startswith(before + report.BEGIN) and text.endswith(report.END + after)
    assert "stale table" not in text and "| conv | 50.00 ms |" in text
    assert report.main([*args, "--check"]) == 0
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed, not left behind


def test_newest_is_the_latest_full_run_and_quick_runs_are_refused(tmp_path, capsys):
    results = tmp_path / "results"
    _write(results, "2026-01-02-aaaaaaa.json", _meta(date_utc="2026-01-02T10:00:00+00:00"))
    _write(results, "2026-01-02-bbbbbbb.json", _meta(date_utc="2026-01-02T09:00:00+00:00"))
    _write(results, "2026-01-03-ccccccc-quick.json", _meta(date_utc="2026-01-03T00:00:00+00:00", quick=True))
    assert record.newest(results).name == "2026-01-02-aaaaaaa.json"
    readme, _, _ = _readme(tmp_path)
    quick = results / "2026-01-03-ccccccc-quick.json"
    assert report.main([str(quick), "--readme", str(readme)]) == 2
    assert "--quick run" in capsys.readouterr().err
    assert "stale table" in readme.read_text()
    assert report.main(["--results", str(tmp_path / "empty"), "--readme", str(readme), "--check"]) == 1


def test_record_path_names_date_and_short_commit():
    meta = {"date_utc": "2026-12-02T06:34:08+00:00", "commit": "2dee38901629ce179867af243238593dcf4e1b0c"}
    assert record.record_path(meta, record.RESULTS_DIR).name == "2026-12-02-2dee389.json"
    assert record.record_path({**meta, "quick": True}).name == "2026-12-02-2dee389-quick.json"


def test_replace_block_needs_both_markers():
    with pytest.raises(ValueError, match="markers not found"):
        report.replace_block(f"no end marker\n{report.BEGIN}\n", "x")


def test_committed_readme_shows_the_newest_committed_record():
    newest = record.newest()
    if newest is None:
        pytest.skip("bench/results/ holds no full-run record yet (python -m bench --repeats 10 --no-memory --record)")
    assert report.main(["--check"]) == 0, f"bench/README.md does not show {newest.name}: run python -m bench.report"
