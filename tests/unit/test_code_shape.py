# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shape every function of plugins/ keeps: at most 60 lines (docstring included) and blocks nested at most 4
deep (an ``if``, ``for``, ``while``, ``try`` or ``with`` inside another counts one deeper; ``elif`` too)."""

import ast
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
MAX_LINES = 60
MAX_DEPTH = 4
BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def nesting(node, depth=0):
    """The deepest block nesting inside ``node`` (nested functions and classes are measured on their own)."""
    deepest = depth
    for child in ast.iter_child_nodes(node):
        if isinstance(child, SCOPES):
            continue
        deepest = max(deepest, nesting(child, depth + 1 if isinstance(child, BLOCKS) else depth))
    return deepest


def functions():
    for path in sorted(PLUGINS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{path.relative_to(PLUGINS.parent)}:{node.lineno} {node.name}", node


def test_the_measure_sees_nesting_and_length():
    code = "def f(x):\n    for a in x:\n        if a:\n            while a:\n                try:\n                    pass\n"
    code += "                except ValueError:\n                    if a:\n                        pass\n"
    node = ast.parse(code).body[0]
    assert nesting(node) == 5
    assert node.end_lineno - node.lineno + 1 == 9


def test_functions_are_short_and_shallow():
    found = list(functions())
    assert len(found) > 200  # every plugin file was read
    too_long = [
        f"{name}: {node.end_lineno - node.lineno + 1} lines"
        for name, node in found
        if node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    too_deep = [f"{name}: nested {nesting(node)} deep" for name, node in found if nesting(node) > MAX_DEPTH]
    assert too_long + too_deep == []
