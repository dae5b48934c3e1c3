"""scripts/import_cycles.py: statements' modules import one another one way (views above tasks,
tasks above the use cases, then notifications, selectors and the models), imports inside
functions counted too."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("import_cycles", ROOT / "scripts" / "import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_finds_a_cycle_and_a_loop_through_it():
    script = load_script()
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert script.groups(edges) == [["a", "b", "c"]]
    assert script.loop(edges, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert script.groups({"a": {"b"}, "b": set()}) == []


def test_no_module_of_statements_imports_one_above_it():
    script = load_script()
    edges = {module: {m for m in imported if m.startswith("statements.")}
             for module, imported in script.import_graph().items() if module.startswith("statements.")}
    assert script.groups(edges) == []


def test_no_cycle_among_the_modules_of_either_app():
    script = load_script()
    assert script.groups(script.import_graph()) == []
