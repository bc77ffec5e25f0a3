"""The package's layers, checked: every import (lazy ones included) points down, and no
module imports itself through others."""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "torch_atomsets"
#: Rank of each top-level part; a part may import only parts of a lower rank (and itself).
RANKS = {"version": 0, "errors": 0, "levels": 1, "utils": 1, "nn": 2, "models": 3, "data": 3, "hub": 4,
         "lightning": 5, "inference": 6, "training": 6, "cli": 7, "__main__": 8}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: pathlib.Path):
    """``(imported module, line)`` of every torch_atomsets import in a file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("torch_atomsets"):
                for alias in node.names:  # `from . import x` may import a module x
                    candidate = f"{target}.{alias.name}"
                    yield (candidate if _is_module(candidate) else target), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("torch_atomsets"):
                    yield alias.name, node.lineno


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph():
    edges = {}
    for path in PACKAGE.rglob("*.py"):
        edges[module_name(path)] = list(imports_of(path))
    return edges


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        source = part_of(module)
        if not source:  # the package's own __init__: the public facade, above everything
            continue
        for target, line in targets:
            goal = part_of(target)
            if goal and goal != source and RANKS[goal] >= RANKS[source]:
                wrong.append(f"{module}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_every_part_has_a_rank():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__" and p.stem != "__main__") or (p / "__init__.py").exists()}
    assert parts <= set(RANKS), parts - set(RANKS)


def test_no_import_cycles():
    modules = graph()
    edges = {m: {t for t, _ in targets if t in modules} for m, targets in modules.items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    # a package __init__ re-exporting its own modules is not a cycle of behaviour
    real = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert not real, real
