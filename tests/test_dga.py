"""The shipped DGA model: loads, scores sanely, handles any input line. Names here are invented."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.dga import (
    MODEL_PATH,
    ModelError,
    load_model,
    score_domain,
    score_label,
    score_lines,
    thresholds,
)
from tests.trainer import trainer_module

RANDOM = ["xkqzvbwtrplmh", "qjxwzvkdtfpyr", "zzkxqbwvmrtn", "vbqxjkzwtlfg", "hgqwxzkvbtrs"]
HEXISH = ["a8f3c9e1d2b4f607", "9c4e1b7a3f5d2e8c0b1a", "e3b0c44298fc1c14"]
ORDINARY = ["google", "wikipedia", "bankofamerica", "stackoverflow", "weatherchannel"]


def test_the_shipped_model_loads_with_thresholds() -> None:
    model = load_model()
    assert model.score_labels([]) == []
    cuts = thresholds()
    assert 0 < cuts["fpr_1pct"] <= cuts["fpr_0.1pct"] < 1


def test_scores_are_deterministic_and_in_range() -> None:
    labels = RANDOM + HEXISH + ORDINARY + ["a", "ab", "x-y", "0", "-"]
    first = [score_label(label) for label in labels]
    assert first == [score_label(label) for label in labels]
    assert all(0.0 <= score <= 1.0 for score in first)


def test_a_label_scores_the_same_alone_and_in_any_batch() -> None:
    # batches are sorted by length and padded to their widest label; no score may depend on it
    labels = RANDOM + HEXISH + ORDINARY + ["qx", "cloud-storage", "z" * 63, "a1b2c3d4e5"]
    alone = [score_label(label) for label in labels]
    assert score_lines(labels) == alone
    assert score_lines(labels[::-1] + ["q" * 40] * 3) == alone[::-1] + [score_label("q" * 40)] * 3
    model = load_model()
    many = [f"{label}{i % 7}" for i, label in enumerate(labels * 300)]
    assert model.score_labels(many)[: len(labels)] == model.score_labels(many[: len(labels)])


def test_word_splits_find_words_on_both_sides_of_a_hyphen() -> None:
    lexicon = load_model().tables.lexicon
    glued, hyphened, noise = lexicon.features(["cloudstorage", "cloud-storage", "xqzvkw"])
    assert glued[0] == 1.0 and glued[3] == 1.0  # all covered by two words or more
    assert hyphened[1] == glued[1] == 2.0  # the same two words
    assert hyphened[0] == 12 / 13  # the hyphen itself is no word
    assert noise[0] == 0.0 and noise[1] == 0.0


def test_random_consonant_strings_outrank_ordinary_names() -> None:
    assert min(score_label(label) for label in RANDOM) > 0.9
    assert max(score_label(label) for label in ORDINARY) < 0.5
    assert min(map(score_label, RANDOM)) > max(map(score_label, ORDINARY))


def test_long_hex_outranks_ordinary_names() -> None:
    assert min(map(score_label, HEXISH)) > max(map(score_label, ORDINARY))


def test_common_words_that_names_avoid_look_more_generated_than_brand_pairs() -> None:
    # glued pairs of everyday words (suppobox's style) against service-like compounds
    odd_pairs = ["whetherbelow", "thoughtdoes", "againstperhaps"]
    service_pairs = ["cloudstorage", "onlinebanking", "newsportal"]
    assert min(map(score_label, odd_pairs)) > max(map(score_label, service_pairs))


def test_short_labels_are_never_confident() -> None:
    assert all(score_label(label) <= 0.5 for label in ("qxz", "zq9k", "x", "kq"))


def test_score_domain_scores_the_registrable_label() -> None:
    assert score_domain("www.example.com") == score_domain("example.com")
    assert score_domain("EXAMPLE.COM.") == score_label("example")
    assert score_domain("xkqzvbwtrplmh.ddns.net") == score_label("xkqzvbwtrplmh")
    assert score_domain("a.b.c.xkqzvbwtrplmh.co.uk") == score_label("xkqzvbwtrplmh")
    assert score_domain("qxkzvbwtrplmh.bazar") == score_label("qxkzvbwtrplmh")


@pytest.mark.parametrize("name", ["", "example", "1.2.3.4", "two words.com", "com", "\x00.com"])
def test_score_domain_is_none_for_non_domains(name: str) -> None:
    assert score_domain(name) is None


def test_score_lines_keeps_one_number_per_line() -> None:
    lines = [
        "",
        "   ",
        "\t\n",
        "xkqzvbwtrplmh[.]com",
        "hxxps://xkqzvbwtrplmh[.]com/path?q=1",
        "user@xkqzvbwtrplmh.com",
        "xkqzvbwtrplmh",
        "bücher.de",
        "xn--bcher-kva.de",
        "пример.рф",
        "例え.jp",
        "a\x00b.com",
        "two words",
        "hxxp://xkqzvbwtrplmh[.]com/a\tb",  # any whitespace inside, though a URL parser
        "hxxp://xkqzvbwtrplmh[.]com/a\nb",  # would drop tabs and line breaks silently
        "💥💥💥",
        "...",
        "x" * 100_000,
        "a." * 50_000,
    ]
    scores = score_lines(lines)
    assert len(scores) == len(lines)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert scores[0] == scores[1] == scores[2] == 0.0
    assert scores[3] == scores[4] == scores[5] == scores[6] == score_label("xkqzvbwtrplmh")
    assert scores[7] == scores[8] == score_label("bucher")
    assert scores[9] == scores[10] == 0.0  # no Latin letters: no opinion
    assert scores[11:] == [0.0] * (len(lines) - 11)


def test_score_lines_on_a_large_line_stays_small() -> None:
    tracemalloc.start()
    try:
        scores = score_lines(["qxkzv" * 200_000, "example.com"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scores[0] == 0.0 and len(scores) == 2
    assert peak < 20_000_000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=5))
def test_score_lines_never_raises(lines: list[str]) -> None:
    scores = score_lines(lines)
    assert len(scores) == len(lines)
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_a_corrupt_model_file_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read DGA model"):
        load_model(path)


def test_a_model_with_a_wrong_shape_fails_clearly(tmp_path: Path) -> None:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    raw["heads"]["hidden_w"] = raw["heads"]["hidden_w"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="corrupt DGA model"):
        load_model(path)


def test_a_model_with_a_broken_lexicon_fails_clearly(tmp_path: Path) -> None:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    raw["lexicon"]["words"] += " n0t-a-word"
    path = tmp_path / "model.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ModelError, match="corrupt DGA model"):
        load_model(path)


def test_a_missing_model_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        load_model(tmp_path / "absent.json")


def test_generic_training_names_are_deterministic_and_cover_each_kind() -> None:
    """The trainer's generic positives: the same for the same seed, and every generator
    contributes, short random letters (5-9) among them, where held-out families are weakest."""
    data = trainer_module("dga_data")
    names = data.synthetic(1000, seed=3)
    assert names == data.synthetic(1000, seed=3) and len(set(names)) == 1000
    short = [n for n in names if n.isalpha() and 5 <= len(n) <= 9]
    assert len(short) >= 200 and any(len(n) == 5 for n in short)
    assert any(len(n) >= 10 and n.isalpha() for n in names)
    assert any(
        any(c.isdigit() for c in n) and any(c in "ghijklmnopqrstuvwxyz" for c in n) for n in names
    )
    assert any(len(n) >= 16 and all(c in "0123456789abcdef" for c in n) for n in names)


def _tokens(count: int) -> list[str]:
    """Distinct three-letter words, so that a glued run splits back unambiguously."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [a + b + c for a in letters for b in letters for c in letters][:count]


def test_word_runs_glue_four_to_six_of_the_most_frequent_words() -> None:
    data = trainer_module("dga_data")
    words = _tokens(data.RUN_WORDS + 500)
    runs = data.word_runs(words, 600, seed=3)
    assert runs == data.word_runs(words, 600, seed=3) and len(set(runs)) == 600
    pieces = [[run[i : i + 3] for i in range(0, len(run), 3)] for run in runs]
    assert {len(p) for p in pieces} == {4, 5, 6}
    index = {w: i for i, w in enumerate(words)}
    assert max(index[w] for p in pieces for w in p) < data.RUN_WORDS  # frequent words only
    assert data.word_runs(words, 600, seed=4) != runs


def test_word_runs_stay_labels() -> None:
    data = trainer_module("dga_data")
    long_words = ["".join(chr(97 + (i + k) % 26) for k in range(20)) for i in range(26)]
    runs = data.word_runs(long_words, 50, seed=0)
    assert max(map(len, runs)) == 63 and all(r.isalpha() and r.islower() for r in runs)


def test_positives_weigh_the_word_runs_lightly_and_nothing_else() -> None:
    data = trainer_module("dga_data")
    words = _tokens(data.RUN_WORDS)
    labels, weights = data.positives(["qpdarx", "kxjwqzpl"], words)
    runs = set(data.word_runs(words))
    assert labels[:2] == ["qpdarx", "kxjwqzpl"] and len(labels) == len(weights)
    assert len(labels) == 2 + data.SYNTHETIC + data.RUNS
    for label, weight in zip(labels, weights.tolist(), strict=True):
        assert weight == (data.RUN_WEIGHT if label in runs else 1.0), label
    assert 0 < data.RUN_WEIGHT < 1


def test_both_sides_weigh_the_same_and_each_positive_keeps_its_weight() -> None:
    heads = trainer_module("dga_heads")
    benign = np.array([1.0, 0.2, 0.05, 3.0])
    dga = np.array([1.0, 1.0, 0.15, 0.15, 0.15])
    weights = heads.balanced(benign, dga)
    assert weights[4:].tolist() == dga.tolist()
    assert weights[:4].sum() == pytest.approx(dga.sum())
    assert weights[:4].tolist() == pytest.approx((benign * dga.sum() / benign.sum()).tolist())
