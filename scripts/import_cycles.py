"""Print the import cycles among the modules of `statements` and `coalition`, imports inside
functions counted too (grimp reads every import statement of a module, wherever it stands).

Usage: .venv/bin/python scripts/import_cycles.py
Each cycle is a group of modules that import one another, directly or through each other (a
strongly connected component of the import graph), printed with one loop through it. The exit
status is 1 if there is any, so CI can run it. Migrations are left out: Django loads them
by name, and nothing imports them.
"""

import sys
from pathlib import Path

import grimp

PACKAGES = ("statements", "coalition")


def import_graph() -> dict[str, set[str]]:
    """Each module and the modules of PACKAGES it imports."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    modules = {m for m in graph.modules if ".migrations" not in m}
    return {m: graph.find_modules_directly_imported_by(m) & modules for m in sorted(modules)}


def groups(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(edges[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for module in edges:
        if module not in index:
            visit(module)
    return sorted(found)


def loop(edges: dict[str, set[str]], group: list[str]) -> list[str]:
    """A shortest way from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for imported in sorted(edges[module] & members):
                if imported == start:
                    return paths[module] + [start]
                if imported not in paths:
                    paths[imported] = paths[module] + [imported]
                    following.append(imported)
        frontier = following
    return group


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    edges = import_graph()
    cycles = groups(edges)
    for group in cycles:
        print(f"{len(group)} modules: {', '.join(group)}")
        print(f"  for example {' -> '.join(loop(edges, group))}")
    print(f"{len(cycles)} import cycle(s) among {len(edges)} modules of {' and '.join(PACKAGES)}.")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
