"""`connector plan` end to end on the shipped examples, plus every kind of bad input file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.commands.plan import load_orders_file, plan_command
from connector.engine import Order, OrderLine, Plan, Policy, make_plan, plan_to_dict, plan_to_json
from connector.errors import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FEEDS = ["--feed", str(EXAMPLES / "feeds" / "acme.csv"), "--feed", str(EXAMPLES / "feeds" / "globex.json"),
         "--map", "item_code=sku", "--map", "eta=restock_date"]


def run_plan(*args: str, platform: str = "shopify", orders: Path | None = None, inventory: Path | None = None):
    orders = orders or EXAMPLES / f"orders_{platform}.json"
    inventory = inventory or EXAMPLES / "inventory.csv"
    return CliRunner().invoke(plan_command, ["--platform", platform, "--orders", str(orders),
                                             "--inventory", str(inventory), *args])


def test_shopify_example_plan_json_follows_the_contract() -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["as_of"] == "2026-11-26"
    summary = [(o["order_name"], o["status"], o["eta"],
                [(ln["line_id"][-3:], ln["sku"], ln["ordered"], ln["allocated"], ln["backordered"], ln["eta"])
                 for ln in o["lines"]]) for o in plan["orders"]]
    assert summary == [
        ("#1001", "ok", None, [("501", "MUG-RED", 2, 2, 0, None), ("502", "TEE-M", 1, 1, 0, None)]),
        ("#1002", "backordered", "2026-12-02", [("503", "MUG-RED", 3, 1, 2, "2026-12-02"),
                                                ("504", "LAMP-01", 1, 0, 1, "2026-11-29")]),
        ("#1004", "backordered", "2026-12-09", [("506", "MUG-BLUE", 2, 0, 2, "2026-12-09")]),
        ("#1005", "backordered", "2026-12-01", [("508", "CAP-GRN", 2, 1, 1, "2026-12-01")]),
        ("#1006", "backordered", None, [("510", "POSTER-A2", 1, 0, 1, None), ("511", "TEE-M", 2, 2, 0, None)]),
        ("#1007", "backordered", "2026-12-16", [("512", "LAMP-01", 2, 0, 2, "2026-12-16")]),
        ("#1008", "backordered", None, [("513", "LAMP-01", 1, 0, 1, None)]),
        ("#1009", "ok", None, [("515", "TEE-M", 3, 3, 0, None)]),
        ("#1011", "backordered", "2026-12-02", [("517", "MUG-RED", 2, 0, 2, "2026-12-02")]),
        ("#1012", "backordered", "2026-12-23", [("518", "MUG-RED", 1, 0, 1, "2026-12-23")]),
    ]
    first = plan["orders"][0]
    assert first["order_id"] == "820982911946154501"  # a big id, exact, as a string
    assert list(first) == ["order_id", "order_name", "status", "eta", "eta_earliest", "eta_latest", "lines"]
    assert list(first["lines"][0]) == ["line_id", "sku", "ordered", "allocated", "backordered", "eta",
                                       "eta_earliest", "eta_latest", "reason"]
    assert "acme.csv, line 5: restock_date: unknown date format '03/12/2026'" in result.stderr


def test_woocommerce_example_plans_only_open_statuses() -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json", platform="woocommerce")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [o["order_id"] for o in plan["orders"]] == ["727", "728", "731", "732"]
    assert plan["orders"][1]["lines"][0] == {"line_id": "303", "sku": "MUG-RED", "ordered": 2, "allocated": 1,
                                             "backordered": 1, "eta": "2026-12-02",
                                             "eta_earliest": "2026-12-02", "eta_latest": "2026-12-02",
                                             "reason": "awaiting_restock"}


def test_policy_options_move_the_etas() -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json", "--handling-days", "3",
                      "--default-lead-days", "1")
    orders = {o["order_name"]: o for o in json.loads(result.stdout)["orders"]}
    assert orders["#1004"]["eta"] == "2026-12-11"  # restock 12-05 + 3 lead + 3 handling


def test_table_output_shows_lines_and_summary() -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.output
    assert "supplier globex: restock 2026-12-20 (+2d lead)" in result.stdout
    assert "no supply known" in result.stdout
    assert ("10 open order(s) as of 2026-11-26: 8 backordered (9 line(s), 13 unit(s); "
            "2 line(s) with unknown ETA), 2 ok") in result.stdout


def test_plan_to_json_is_exactly_json_dumps_of_the_dict() -> None:
    from datetime import UTC, date, datetime
    orders = [Order('id "quoted"', "Ünïcode #1", datetime(2026, 1, 1, tzinfo=UTC), True,
                    (OrderLine("l\\1", "SKU\t1", 2, 2), OrderLine("l2", "B", 1, 1)))]
    plan = make_plan(orders, {"SKU\t1": 1, "B": 1}, [], date(2026, 1, 2), Policy())
    assert plan_to_json(plan) == json.dumps(plan_to_dict(plan))
    assert plan_to_json(Plan(date(2026, 1, 2), ())) == json.dumps({"as_of": "2026-01-02", "orders": []})


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_json_lines_orders_are_accepted(tmp_path: Path) -> None:
    orders = json.loads((EXAMPLES / "orders_shopify.json").read_text())
    jsonl = write(tmp_path, "orders.jsonl", "\n".join(json.dumps(o) for o in orders) + "\n")
    assert load_orders_file(jsonl, "shopify") == load_orders_file(EXAMPLES / "orders_shopify.json", "shopify")


@pytest.mark.parametrize(("content", "expected"), [
    ("", "orders.json: the file is empty"),
    ('[\n  {"id": 1, "created_at": "2026-11-01T00:00:00Z"},\n  {"id": 2}\n]',
     "orders.json, line 3: order 2 in the array: created_at: Field required"),
    ('[\n  {"id": 1, "created_at": "2026-11-01T00:00:00Z",\n   "line_items": [{"id": 5, "quantity": "lots"}]}\n]',
     "orders.json, line 2: order 1 in the array: line_items[0].quantity: Input should be a valid integer"),
    ('[\n  {"id": 1,, }\n]', "orders.json, line 2: not valid JSON"),
    ('{"id": 1, "created_at": "2026-11-01T00:00:00Z"}\n\n{"id": 2, "created_at": "yesterday"}\n',
     "orders.json, line 3: created_at: Input should be a valid datetime"),
    ('{"id": 1, "created_at": "2026-11-01T00:00:00Z"}\n{"id": 2,\n',
     "orders.json, line 2: not valid JSON"),
    ('{"orders": [\n]}\n', "orders.json, line 1: not valid JSON"),
])
def test_malformed_orders_file_names_file_and_line(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, "orders.json", content)
    with pytest.raises(InputError) as caught:
        load_orders_file(path, "shopify")
    assert str(caught.value).replace(str(tmp_path) + "/", "").startswith(expected)


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    orders = write(tmp_path, "orders.json", '[{"id": 1}]')
    result = run_plan("--json", orders=orders)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {orders}, line 1: order 1 in the array: created_at: Field required")

    inventory = write(tmp_path, "inventory.csv", "sku,on_hand\nA,x\n")
    result = run_plan("--json", inventory=inventory)
    assert (result.exit_code, result.stderr) == (2, f"error: {inventory}, line 2: on_hand for A must be a whole "
                                                    "number, got 'x'\n")

    feed = write(tmp_path, "acme.csv", "item,available\nA,1\n")
    result = run_plan("--json", "--feed", str(feed))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {feed}, line 1: no sku column")

    result = run_plan("--json", "--map", "nonsense")
    assert result.exit_code == 2 and "expected COLUMN=FIELD" in result.stderr


def test_bad_as_of_is_a_usage_error() -> None:
    result = run_plan("--as-of", "26/11/2026")
    assert result.exit_code == 2
    assert "expected YYYY-MM-DD" in result.stderr


def test_missing_orders_file_is_named(tmp_path: Path) -> None:
    result = run_plan(orders=tmp_path / "missing.json")
    assert result.exit_code == 2
    assert "missing.json: cannot read the file" in result.stderr


def test_a_shopify_custom_line_without_a_variant_is_never_planned_as_backordered(tmp_path: Path) -> None:
    from connector.commands.plan import load_engine_orders

    order = {"id": "1", "name": "#1001", "created_at": "2026-11-02T10:00:00Z", "line_items": [
        {"id": "11", "sku": "GIFT-WRAP", "quantity": 1, "variant_id": None},
        {"id": "12", "sku": "BOOT-42", "quantity": 2, "variant_id": "7"},
    ]}
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([order]))
    [loaded] = load_engine_orders(path, "shopify")
    assert [(line.line_id, line.sku) for line in loaded.lines] == [("11", None), ("12", "BOOT-42")]


def test_plan_json_lists_each_inventory_sku_with_its_availability_eta() -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert list(plan) == ["as_of", "orders", "variants"]
    assert plan["variants"] == [
        {"sku": "CAP-GRN", "available_now": 0, "eta": "2026-12-01"},  # the restock's 4 spare units
        {"sku": "DESK-01", "available_now": 2},  # in stock: no eta key
        {"sku": "GIFT-CARD", "available_now": 100},
        {"sku": "LAMP-01", "available_now": 0, "eta": None},  # supply ran out at order #1008
        {"sku": "MUG-BLUE", "available_now": 0, "eta": "2026-12-09"},
        {"sku": "MUG-RED", "available_now": 0, "eta": "2026-12-23"},  # behind #1012, on globex's open restock
        {"sku": "POSTER-A2", "available_now": 0, "eta": None},
        {"sku": "TEE-M", "available_now": 4},
    ]


def test_each_backordered_line_states_its_reason(tmp_path: Path) -> None:
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json")
    plan = json.loads(result.stdout)
    lines = [line for order in plan["orders"] for line in order["lines"]]
    assert {line["reason"] for line in lines if line["backordered"]} == {"awaiting_restock", "no_supplier_date"}
    assert all(line["reason"] is None for line in lines if not line["backordered"])
    assert all((line["reason"] == "no_supplier_date") == (line["eta"] is None) for line in lines if line["backordered"])
    # A burst of POSTER-A2 orders in the last days (a long quiet history before it) is a demand surge.
    base = json.loads((EXAMPLES / "orders_shopify.json").read_text())
    template = base[0]
    extra = []
    for number in range(12):
        day = "2026-08-01" if number < 2 else "2026-11-2" + str(number % 6)
        extra.append({**template, "id": 900 + number, "name": f"#9{number:02d}", "order_number": 900 + number,
                      "created_at": f"{day}T10:00:00+00:00", "updated_at": f"{day}T10:00:00+00:00",
                      "line_items": [{**template["line_items"][0], "id": 9900 + number, "sku": "POSTER-A2",
                                      "quantity": 1, "fulfillable_quantity": 0 if number < 2 else 1}]})
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps(base + extra))
    surged = json.loads(run_plan(*FEEDS, "--as-of", "2026-11-26", "--json", orders=orders).stdout)
    posters = [line for order in surged["orders"] for line in order["lines"] if line["sku"] == "POSTER-A2"]
    assert posters and all(line["reason"] == "demand_surge" for line in posters if line["backordered"])
    assert "Reason" in run_plan(*FEEDS, "--as-of", "2026-11-26").stdout


def test_plan_json_variants_carry_the_learned_range_where_a_lateness_model_dates_them(tmp_path: Path) -> None:
    model = tmp_path / "lateness.csv"
    model.write_text("supplier,sku,samples,p50_days,p80_days,p90_days\nglobex,,20,2,4,6\n")
    result = run_plan(*FEEDS, "--as-of", "2026-11-26", "--json", "--lateness", str(model))
    assert result.exit_code == 0, result.output
    variants = {v["sku"]: v for v in json.loads(result.stdout)["variants"]}
    # globex's MUG-BLUE restock (12-05 + 3 lead) is dated 4 days late at p80, 2 at p50 and 6 at p90, + handling
    assert variants["MUG-BLUE"] == {"sku": "MUG-BLUE", "available_now": 0, "eta": "2026-12-13",
                                    "eta_earliest": "2026-12-11", "eta_latest": "2026-12-15"}
    assert variants["TEE-M"] == {"sku": "TEE-M", "available_now": 4}  # in stock: no ETA, no range
    assert variants["LAMP-01"]["eta"] is None and "eta_earliest" not in variants["LAMP-01"]
