"""Supplier feed and inventory file parsing: good rows, rejected rows with lines, refused files."""

from __future__ import annotations

from datetime import date

import pytest

from connector.engine import SupplyRow
from connector.errors import InputError
from connector.feeds.inventory import parse_inventory_bytes, parse_inventory_csv
from connector.feeds.parse import parse_column_map, parse_feed, to_supply

GOOD_CSV = b"""sku,available,restock_date,restock_qty,lead_time_days
MUG-RED,4,,,5
MUG-BLUE,,2026-12-05,10,3
"""


def test_csv_rows_become_canonical_rows_and_supply() -> None:
    parsed = parse_feed(GOOD_CSV, "acme.csv")
    assert parsed.rejected == []
    assert [to_supply(row, "acme") for row in parsed.rows] == [
        SupplyRow("acme", "MUG-RED", 4, None, None, 5),
        SupplyRow("acme", "MUG-BLUE", None, date(2026, 12, 5), 10, 3),
    ]


def test_bad_rows_are_rejected_with_their_file_line_and_the_rest_kept() -> None:
    data = (b"sku,available,restock_date,restock_qty,lead_time_days\n"
            b"A,1,,,\n"
            b"B,,03/12/2026,5,\n"  # line 3: ambiguous date
            b"\n"
            b"C,-2,,,\n"  # line 5: negative
            b",3,,,\n"  # line 6: no SKU
            b"D,two,,,\n"  # line 7: not a number
            b"E,1,,,,extra\n"  # line 8: too many fields
            b"F,2.5,,,\n")  # line 9: not whole
    parsed = parse_feed(data, "acme.csv")
    assert [row.sku for row in parsed.rows] == ["A"]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert reasons == {
        3: "restock_date: unknown date format '03/12/2026' (use YYYY-MM-DD)",
        5: "available: negative quantity -2",
        6: "missing SKU",
        7: "available: expected a whole number, got 'two'",
        8: "6 fields but the header has 5",
        9: "available: expected a whole number, got '2.5'",
    }
    assert parsed.rejected[0].raw["restock_date"] == "03/12/2026"
    assert parsed.rejected[0].where == "line 3"


def test_quoted_field_spanning_lines_keeps_later_line_numbers_right() -> None:
    data = b'sku,available,note\n"A",1,"two\nlines"\nB,x,\n'
    parsed = parse_feed(data, "f.csv")
    assert [(r.line, r.reason) for r in parsed.rejected] == [(4, "available: expected a whole number, got 'x'")]


@pytest.mark.parametrize("text", ["2026-12-05", "2026/12/05", "20261205", "2026-12-05T08:00:00Z", "5 Dec 2026",
                                  "December 5, 2026", " 2026-12-05 "])
def test_unambiguous_date_formats_are_accepted(text: str) -> None:
    parsed = parse_feed(f"sku,restock_date\nA,\"{text}\"\n".encode(), "f.csv")
    assert parsed.rows[0].restock_date == date(2026, 12, 5)


def test_column_map_renames_supplier_columns_case_insensitively() -> None:
    data = b"Item_Code,ETA,Qty\nA,2026-12-05,3\n"
    mapping = parse_column_map(["item_code=sku", "eta=restock_date", "qty=restock_qty"])
    parsed = parse_feed(data, "globex.csv", column_map=mapping)
    assert (parsed.rows[0].sku, parsed.rows[0].restock_date, parsed.rows[0].restock_qty) == ("A", date(2026, 12, 5), 3)


def test_column_map_syntax_is_checked() -> None:
    with pytest.raises(InputError, match="expected COLUMN=FIELD"):
        parse_column_map(["item_code"])
    with pytest.raises(InputError, match="expected COLUMN=FIELD"):
        parse_column_map(["item_code=colour"])


def test_json_feed_array_and_items_wrapper_with_item_numbers() -> None:
    data = b'{"items": [{"item_code": "A", "available": 2}, "oops", {"item_code": "B", "available": -1}]}'
    parsed = parse_feed(data, "globex.json", column_map={"item_code": "sku"})
    assert [row.sku for row in parsed.rows] == ["A"]
    assert [(r.where, r.reason) for r in parsed.rejected] == [
        ("item 2", "not a JSON object"), ("item 3", "available: negative quantity -1")]
    plain = parse_feed(b'[{"sku": "A", "restock_date": "2026-12-05"}]', "feed")
    assert plain.rows[0].restock_date == date(2026, 12, 5)


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "the feed is empty"),
    (b"  \n", "the feed is empty"),
    (b"sku,available\n", "the feed has a header but no rows"),
    (b"item,available\nA,1\n", "line 1: no sku column among its 2 columns"),
    (b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1\n", "line 1: no sku column among its 1 columns"),
    (b"[" + b'[' * 5000 + b"]" * 5001, "line 1: not valid JSON: an item nests deeper than 900 levels"),
    (b'[{"a": ' + b'[' * 5000 + b"]" * 5000 + b"}]", "line 1: not valid JSON: an item nests deeper than 900 levels"),
    (b"sku,available\n\xff\xfe,1\n", "line 2: not UTF-8 text"),
    (b'[{"sku": "A",}]', "line 1: not valid JSON"),
    (b'[{"item": "A"}]', "no sku field in any item"),
    (b"[]", "the feed is empty"),
    (b'{"rows": []}', "expected a JSON array of objects"),
])
def test_unusable_feed_is_refused_whole(data: bytes, problem: str) -> None:
    name = "feed.json" if data.lstrip().startswith((b"[", b"{")) else "feed.csv"
    with pytest.raises(InputError) as caught:
        parse_feed(data, name)
    assert str(caught.value).startswith(f"{name}, {problem}" if problem.startswith("line") else f"{name}: {problem}")


def test_two_columns_mapped_to_sku_is_refused() -> None:
    with pytest.raises(InputError, match="more than one column becomes 'sku'"):
        parse_feed(b"sku,item_code\nA,B\n", "f.csv", column_map={"item_code": "sku"})


def test_inventory_parses_and_allows_negative_on_hand(tmp_path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes(b"\xef\xbb\xbfSKU,name,On_Hand\nMUG-RED,Red mug,3\nMUG-BLUE,,-2\n\n")
    assert parse_inventory_csv(path) == {"MUG-RED": 3, "MUG-BLUE": -2}


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "the file is empty"),
    (b"sku,on_hand\n", "the file has a header but no rows"),
    (b"sku,count\nA,1\n", "line 1: the header must name the columns sku and on_hand"),
    (b"sku,on_hand\nA,1\nB,1.5\n", "line 3: on_hand for B must be a whole number, got '1.5'"),
    (b"sku,on_hand\nA,1\n,4\n", "line 3: missing SKU"),
    (b"sku,on_hand\nA,1\nA,2\n", "line 3: SKU A appears twice (first on line 2)"),
    (b"sku,on_hand\nA\n", "line 2: expected sku and on_hand, got 1 field(s)"),
])
def test_bad_inventory_refuses_the_whole_file(data: bytes, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_inventory_bytes(data, "inventory.csv")
    sep = ", " if problem.startswith("line") else ": "
    assert str(caught.value) == f"inventory.csv{sep}{problem}"


def test_missing_inventory_file_names_it(tmp_path) -> None:
    with pytest.raises(InputError, match="nope.csv: cannot read the file"):
        parse_inventory_csv(tmp_path / "nope.csv")
