"""The lateness model as CSV, `supplier,sku,samples,p50_days,p80_days,p90_days` (an empty `sku`: the supplier as a whole).

`connector suppliers lateness --csv` writes it and `connector plan --lateness FILE` reads it back, so a
plan can be rerun offline with the model. The file is a snapshot on the day it was written: the
quantiles include a supplier's trend up to that day, not beyond.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from connector.csvout import csv_text, unguard
from connector.engine.lateness import QUANTILES, LatenessFigure, LatenessModel
from connector.errors import InputError

HEADER = ("supplier", "sku", "samples", "p50_days", "p80_days", "p90_days")


def _days(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def lateness_csv(model: LatenessModel) -> str:
    """The model as CSV text: each supplier, then its SKUs with figures of their own, sorted by name."""
    return csv_text(HEADER, lateness_rows(model))


def lateness_rows(model: LatenessModel) -> list[tuple[object, ...]]:
    """Each supplier, then its SKUs with figures of their own, sorted by name (the CSV's rows)."""
    rows: list[tuple[object, ...]] = []
    for supplier in sorted(model.suppliers):
        figure = model.suppliers[supplier]
        rows.append((supplier, "", figure.samples, *(_days(figure.at(q)) for q in QUANTILES)))
        for (owner, sku) in sorted(key for key in model.skus if key[0] == supplier):
            sku_figure = model.skus[(owner, sku)]
            rows.append((supplier, sku, sku_figure.samples, *(_days(sku_figure.at(q)) for q in QUANTILES)))
    return rows


def read_lateness_csv(path: str | Path) -> LatenessModel:
    """A model from that CSV; a bad row names its line and the file is refused (exit status 2)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(source, f"cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise InputError(source, "not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    suppliers: dict[str, LatenessFigure] = {}
    skus: dict[tuple[str, str], LatenessFigure] = {}
    header: list[str] | None = None
    for fields in reader:
        if not "".join(fields).strip():
            continue
        if header is None:
            header = [value.strip().lower() for value in fields]
            missing = [name for name in HEADER if name not in header]
            if missing:
                raise InputError(source, f"missing column(s) {', '.join(missing)}", reader.line_num)
            continue
        row = dict(zip(header, (value.strip() for value in fields), strict=False))
        supplier, sku = unguard(row.get("supplier", "")), unguard(row.get("sku", ""))
        if not supplier:
            raise InputError(source, "missing supplier", reader.line_num)
        try:
            samples = int(row.get("samples") or 0)
            values = [float(row[f"p{int(q * 100)}_days"]) for q in QUANTILES]
        except (KeyError, ValueError):
            raise InputError(source, "samples must be a whole number and p50_days, p80_days, p90_days numbers",
                             reader.line_num) from None
        if samples < 0 or values != sorted(values):
            raise InputError(source, "samples must not be negative and p50 <= p80 <= p90", reader.line_num)
        figure = LatenessFigure(samples, dict(zip(QUANTILES, values, strict=True)))
        if sku:
            skus[(supplier, sku)] = figure
        else:
            suppliers[supplier] = figure
    if header is None:
        raise InputError(source, "the file is empty")
    return LatenessModel(suppliers, skus)
