"""Where things live in inventory holds (docs/inventory.md): no module imports one that
imports it back (the catalogue and the stock ledger used to), and the rules never import
a handler or Litestar, so the API, the pages and the CLI all call the same functions."""

from __future__ import annotations

import grimp
import pytest

RULES = (
    "bins", "catalogue", "catalogue_import", "catalogue_queries", "gs1", "ledger", "lookups",
    "purchasing", "reorder", "responses", "restock", "search", "stock_levels", "stock_queries",
)  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("inventory", "kernel", include_external_packages=True)


def test_no_inventory_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    modules = sorted(m for m in graph.modules if m.startswith("inventory"))
    cycles = [
        (a, b)
        for a in modules
        for b in graph.find_modules_directly_imported_by(a)
        if b.startswith("inventory") and b != a and graph.chain_exists(b, a)
        and not b.startswith(f"{a}.") and not a.startswith(f"{b}.")  # a package and its parts
    ]  # fmt: skip
    assert cycles == []


def test_the_catalogue_and_the_ledger_do_not_import_each_other(graph: grimp.ImportGraph) -> None:
    assert not graph.chain_exists("inventory.catalogue", "inventory.ledger")
    assert not graph.chain_exists("inventory.ledger", "inventory.catalogue")


@pytest.mark.parametrize("rule", RULES)
def test_a_rules_module_imports_no_handler_and_no_litestar(
    graph: grimp.ImportGraph, rule: str
) -> None:
    module = f"inventory.{rule}"
    modules = (
        [module, *sorted(graph.find_descendants(module))]
        if rule == "catalogue_import"
        else [module]
    )
    for name in modules:
        imported = graph.find_modules_directly_imported_by(name)
        assert not [m for m in imported if m.split(".")[0] == "litestar"], name
        assert not [m for m in imported if m.startswith(("inventory.api", "inventory.pages"))], name
