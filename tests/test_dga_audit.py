"""The DGA benchmark's audited view: benchmarks/dga.py runs by hand, but the rules that make its
third view (which labels drop out, and when the view is undefined) are checked here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.dga_audit import AUDIT, audited, digest, load_audit


def _audit(tmp_path: Path, verdicts: dict[str, str]) -> dict[str, bool]:
    path = tmp_path / "audit.tsv"
    lines = ["# comment", ""] + [f"{digest(label)}\t{v}" for label, v in verdicts.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_audit(path)


def test_junk_drops_out_and_the_view_is_covered_while_the_audit_reaches_the_cut(
    tmp_path: Path,
) -> None:
    labels = [f"name{i}" for i in range(200)]
    scores = np.arange(200, dtype=np.float64)[::-1].copy()  # name0 scores highest
    audit = _audit(tmp_path, {"name0": "junk", "name1": "kept", "name2": "junk", "name3": "kept"})
    result = audited(labels, scores, audit, 0.01)
    assert result.junk.tolist() == [True, False, True] + [False] * 197
    assert result.covered  # the 1% cut of the 198 left falls below name2, all audited


def test_the_view_is_not_covered_when_unaudited_labels_sit_above_the_cut(tmp_path: Path) -> None:
    labels = [f"name{i}" for i in range(200)]
    scores = np.arange(200, dtype=np.float64)[::-1].copy()
    audit = _audit(tmp_path, {"name0": "junk", "name1": "kept"})
    assert not audited(labels, scores, audit, 0.01).covered  # name2 sits above the cut


@pytest.mark.parametrize(
    "line", ["abc\tjunk", f"{digest('x')}\tmaybe", f"{digest('x')} junk", f"{digest('x')}"]
)
def test_a_malformed_audit_line_is_named(tmp_path: Path, line: str) -> None:
    path = tmp_path / "audit.tsv"
    path.write_text(f"{digest('y')}\tkept\n{line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"audit\.tsv:2:"):
        load_audit(path)


def test_a_label_audited_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.tsv"
    path.write_text(f"{digest('y')}\tkept\n{digest('y')}\tjunk\n", encoding="utf-8")
    with pytest.raises(ValueError, match="new digest"):
        load_audit(path)


def test_the_shipped_audit_reads_and_keeps_what_is_in_doubt() -> None:
    audit = load_audit(AUDIT)
    assert len(audit) > 1000
    # real names that look random stay in the reference: abbreviations, pinyin, brands
    for label in ("ecmwf", "tfbnw", "qiyukf", "smugmug", "azmk8s"):
        assert audit[digest(label)] is False
    assert 0.2 < sum(audit.values()) / len(audit) < 0.5
