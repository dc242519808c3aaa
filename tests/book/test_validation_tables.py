"""Chapter 5's table rows: 'value ± err' cells, one column per energy bin."""

from __future__ import annotations

from gan3d_lib.book.validation_tables import per_bin_rows
from gan3d_lib.core.tables import plus_minus


def test_plus_minus_and_per_bin_rows():
    assert plus_minus(None, None) == "–"
    assert plus_minus(0.51234, 0.01, ".2f") == "0.51 ± 0.01"
    res = {"bins": {"2-20 GeV": {"auc_high": 0.6, "auc_high_err": 0.02}, "20-100 GeV": {"auc_high": 0.7, "auc_high_err": None}}}
    rows = per_bin_rows([("x", res)], "auc_high", ["2-20 GeV", "20-100 GeV"], err_key="auc_high_err")
    assert rows == [{"label": "x", "2-20 GeV": "0.60 ± 0.02", "20-100 GeV": "0.70"}]
