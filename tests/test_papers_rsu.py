"""mu_core.papers.rsu against the paper's own markdown tables (parsed here, independently),
plus structural checks that need no paper file."""

import re
from pathlib import Path

import pytest

from mu_core.papers import rsu

PAPER = Path(__file__).resolve().parents[2] / "shared" / "papers" / "rsu.md"
DATASET_LABELS = {"MNIST": "mnist", "CIFAR10": "cifar10", "CIFAR100": "cifar100",
                  "TinyImagenet": "tiny_imagenet"}
METHOD_LABELS = {"Original": "original", "GA": "ga", "RL": "rl", "FT": "ft", "RfS": "retrain",
                 "Bad-T": "bad_teacher", "BadT": "bad_teacher", "L1-sparse": "l1_sparse"}
ACCURACIES = ("retain", "val", "forget")
# The defects documented in rsu.py: "720" (1 cell) and two Table 2 Acc_Dr rows with one
# number missing (12 cells each).
DOCUMENTED_NONE = 25


def _cell(text: str) -> str:
    return re.sub(r"</?b>", "", text).strip()


def _metric(label: str) -> str:
    for key, metric in (("D_r", "retain"), ("val", "val"), ("D_u", "forget"),
                        ("MIA", "mia_gap"), ("ToW", "tow")):
        if key in label:
            return metric
    raise AssertionError(f"unknown column {label!r}")


def _value(printed: str, metric: str) -> float:
    return float(printed) / 100 if metric in ACCURACIES else float(printed)


@pytest.fixture(scope="module")
def lines():
    if not PAPER.exists():
        pytest.skip(f"{PAPER} is absent (CI clones only the repository)")
    return PAPER.read_text(encoding="utf-8").split("\n")


def _block(lines, predicate):
    """The rows after the first header line matching `predicate`, up to a blank line."""
    start = next(i for i, line in enumerate(lines) if predicate(i, line))
    end = next(j for j in range(start + 1, len(lines)) if not lines[j].strip())
    return lines[start], lines[start + 1:end]


def _subset_table(lines, subset_label):
    """{(dataset, metric): [14 printed cells]} and the (method, subset) of each column."""
    header, rows = _block(lines, lambda i, line: line.startswith("Model (Architecture)\tMethods"
                                                                 "\tOriginal")
                          and subset_label + " Low" in lines[i + 1])
    methods = [METHOD_LABELS[name] for name in header.split("\t")[2:] if name.strip()]
    columns = [(method, subset) for method in methods for subset in ("low", "high")]
    table, dataset = {}, None
    for row in rows[1:]:  # rows[0]: the Low / High header
        cells = row.split("\t")
        if cells[0].strip():
            dataset = DATASET_LABELS[cells[0].split(" ")[0]]
        table[dataset, _metric(cells[1])] = [_cell(c) for c in cells[2:]]
    return table, columns


def _check_subset_table(module_table, printed_table, columns, name):
    """Every non-None cell equals the print; returns the None cells that are not "-"."""
    seen, defects = set(), set()
    for (dataset, metric), printed in printed_table.items():
        assert len(printed) == len(columns)
        numbers = [p for p in printed if p]
        if len(numbers) == len(columns):
            placed = dict(zip(columns, printed))
        else:  # a short row: only the Original pair is placed
            assert len(numbers) == len(columns) - 1 and printed[-1] == ""
            placed = dict(zip(columns[:2], printed[:2]))
        for method, subset in columns:
            value = module_table[dataset][method][subset][metric]
            seen.add((dataset, method, subset, metric))
            text = placed.get((method, subset))
            if text == "-":
                assert value is None, (name, dataset, method, subset, metric)
            elif text is None or (metric in ACCURACIES and float(text) > 100):
                assert value is None, (name, dataset, method, subset, metric, text)
                defects.add((name, dataset, method, subset, metric))
            elif value is None:
                defects.add((name, dataset, method, subset, metric))
            else:
                assert value == pytest.approx(_value(text, metric), abs=1e-9), \
                    (name, dataset, method, subset, metric, text, value)
    cells = {(d, m, s, k) for d, by_method in module_table.items()
             for m, by_subset in by_method.items() for s, row in by_subset.items() for k in row}
    assert cells == seen, f"{name}: cells not in the print: {cells - seen}"
    return defects


def test_tables_1_and_2_match_the_print_and_every_none_is_documented(lines):
    defects = set()
    for name, module_table, label in (("table1", rsu.TABLE1, "MI"), ("table2", rsu.TABLE2, "MIA")):
        printed, columns = _subset_table(lines, label)
        assert [m for m, _ in columns[::2]] == list(rsu.METHODS)
        defects |= _check_subset_table(module_table, printed, columns, name)
    assert defects == set(rsu.NONE_CELLS)
    assert len(rsu.NONE_CELLS) == len(set(rsu.NONE_CELLS)) == DOCUMENTED_NONE
    assert ("table1", "tiny_imagenet", "bad_teacher", "low", "forget") in defects


def _with_without_table(lines, last_column):
    header, rows = _block(lines, lambda i, line: line.startswith("Model (Architecture)\tMethods\t")
                          and line.rstrip().endswith(last_column))
    metrics = [_metric(label) for label in header.split("\t")[2:]]
    table, dataset, method = {}, None, None
    for row in rows:
        cells = [_cell(c) for c in row.split("\t")]
        if cells[0]:
            dataset = DATASET_LABELS[cells[0].split(" ")[0]]
        assert len(cells[2:]) == len(metrics), row
        if cells[1] == "With SPU":
            variant = "with"
        else:
            method, variant = METHOD_LABELS[cells[1]], "without"
        table.setdefault(dataset, {}).setdefault(method, {})[variant] = dict(
            zip(metrics, cells[2:]))
    return table


@pytest.mark.parametrize("name, last_column", [("TABLE5", "ToW"), ("TABLE6", "MIA Gap")])
def test_tables_5_and_6_match_the_print(lines, name, last_column):
    printed = _with_without_table(lines, last_column)
    module_table = getattr(rsu, name)
    assert set(printed) == set(module_table)
    for dataset, by_method in printed.items():
        assert set(by_method) == set(module_table[dataset])
        for method, by_variant in by_method.items():
            assert set(by_variant) == set(module_table[dataset][method]) == {"with", "without"}
            for variant, row in by_variant.items():
                ours = module_table[dataset][method][variant]
                assert set(row) == set(ours)
                for metric, text in row.items():
                    assert ours[metric] == pytest.approx(_value(text, metric), abs=1e-9), \
                        (name, dataset, method, variant, metric, text)


def test_table3_matches_the_print(lines):
    _, rows = _block(lines, lambda i, line: line.startswith("Class\tTop 80%"))
    assert len(rows) == len(rsu.TABLE3) == 10
    for row in rows:
        cls, top, bottom, high, low = row.split("\t")
        ours = rsu.TABLE3[int(cls)]
        assert ours["top80"] == tuple(float(x) for x in top.split("-"))
        assert ours["bottom20"] == tuple(float(x) for x in bottom.split("-"))
        assert ours["mi_high"] == pytest.approx(float(high), abs=1e-9)
        assert ours["mi_low"] == pytest.approx(float(low), abs=1e-9)


def test_table4_matches_the_print(lines):
    _, rows = _block(lines, lambda i, line: line.startswith("Dataset\tDimensionality"))
    labels = {"MNIST": "mnist", "CIFAR-10": "cifar10", "CIFAR-100": "cifar100",
              "TinyImagenet": "tiny_imagenet"}
    assert len(rows) == len(rsu.TABLE4)
    for row in rows:
        label, dimensionality, size, classes = row.split("\t")
        ours = rsu.TABLE4[labels[label]]
        assert ours["dimensionality"] == tuple(int(x) for x in re.findall(r"\d+", dimensionality))
        assert (ours["size"], ours["classes"]) == (int(size), int(classes))


def test_architectures_appear_in_the_print(lines):
    text = "\n".join(lines).lower()
    for dataset, architecture in rsu.ARCHITECTURES.items():
        assert architecture.lower() in text, (dataset, architecture)


# --- structural checks: no paper file needed ------------------------------------------


def _registry_names() -> set[str]:
    source = "".join(p.read_text() for p in (Path(__file__).resolve().parents[1] / "mu_core"
                                             / "unlearn").glob("*.py"))
    return set(re.findall(r'@register\(\s*"(\w+)"', source))


def test_keys_are_mu_core_names():
    from mu_core.data import DATASETS

    assert set(rsu.DATASETS) <= set(DATASETS) and "mnist5k" not in rsu.DATASETS
    assert set(rsu.ARCHITECTURES) == set(rsu.DATASETS) == set(rsu.TABLE4)
    assert set(rsu.METHODS) - {"original"} <= _registry_names()
    assert set(rsu.UNLEARNING) <= _registry_names()
    for table in (rsu.TABLE1, rsu.TABLE2):
        assert set(table) == set(rsu.DATASETS)
        for by_method in table.values():
            assert tuple(by_method) == rsu.METHODS
            for by_subset in by_method.values():
                assert tuple(by_subset) == rsu.SUBSETS


def test_tables_5_and_6_have_every_method_with_and_without():
    for table, metrics in ((rsu.TABLE5, {"retain", "val", "forget", "tow"}),
                           (rsu.TABLE6, {"retain", "val", "forget", "tow", "mia_gap"})):
        assert set(table) == set(rsu.DATASETS)
        for by_method in table.values():
            assert {"ga", "rl", "bad_teacher"} <= set(by_method)
            for by_variant in by_method.values():
                assert set(by_variant) == {"with", "without"}
                for row in by_variant.values():
                    assert set(row) == metrics


def _rows():
    for table in (rsu.TABLE1, rsu.TABLE2):
        for by_method in table.values():
            for by_subset in by_method.values():
                yield from by_subset.values()
    for table in (rsu.TABLE5, rsu.TABLE6):
        for by_method in table.values():
            for by_variant in by_method.values():
                yield from by_variant.values()


def test_every_value_is_a_fraction_or_none():
    for row in _rows():
        for metric, value in row.items():
            assert value is None or (isinstance(value, float) and 0 <= value <= 1), (metric, row)
    for row in rsu.TABLE3.values():
        for value in (*row["top80"], *row["bottom20"], row["mi_high"], row["mi_low"]):
            assert 0 <= value <= 1
        assert row["top80"][0] >= row["top80"][1] and row["bottom20"][0] >= row["bottom20"][1]


def test_none_cells_are_none():
    tables = {"table1": rsu.TABLE1, "table2": rsu.TABLE2}
    for name, dataset, method, subset, metric in rsu.NONE_CELLS:
        assert tables[name][dataset][method][subset][metric] is None
    assert len(rsu.NONE_CELLS) == DOCUMENTED_NONE


def test_table3_places_high_in_the_tail_as_claimed():
    # The claim "high_in_tail" read off Table 3: MI High inside the bottom 20%, MI Low in the
    # top 80%, for every class.
    for row in rsu.TABLE3.values():
        assert row["bottom20"][1] <= row["mi_high"] <= row["bottom20"][0]
        assert row["top80"][1] <= row["mi_low"] <= row["top80"][0]


def test_training_details():
    assert rsu.TRAINING["epochs"] == 200 and rsu.TRAINING["lr_milestones"] == (100, 150)
    assert rsu.UNLEARNING["l1_sparse"]["gamma"] == 1e-5
    for method, setting in rsu.UNLEARNING.items():
        low, high = setting.get("lr_range", (setting.get("lr"),) * 2)
        assert 0 < low <= high, method


def test_claims_are_snake_case_sentences():
    expected = {"mi_high_forgotten_more", "mi_high_larger_mia_gap", "mia_high_forgotten_more",
                "mia_high_larger_mia_gap", "mi_high_higher_asr", "mi_high_are_mia_high",
                "high_more_entropy",
                "high_in_tail", "high_relearn_longer", "loss_correlates_with_asr",
                "rsu_improves_class", "rsu_improves_random", "rsu_gain_larger_for_class",
                "rsu_beats_original_and_reverse"}
    assert expected <= set(rsu.CLAIMS)
    for key, text in rsu.CLAIMS.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", key), key
        assert isinstance(text, str) and text.strip()
