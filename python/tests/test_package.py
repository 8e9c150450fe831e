"""The package documents itself: every public name and method has a docstring, and the .pyi
stub declares every public name and method, so editors complete what exists."""

import ast
import inspect
import os

import thalia

STUB = os.path.join(os.path.dirname(thalia.__file__), "__init__.pyi")


def public_methods(cls):
    return {n for n, v in vars(cls).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}


def stub_tree():
    return ast.parse(open(STUB).read())


def test_every_public_name_and_method_has_a_docstring():
    missing = []
    for name in thalia.__all__:
        obj = getattr(thalia, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            missing += [f"{name}.{m}" for m in public_methods(obj) if not inspect.getdoc(getattr(obj, m))]
    assert not missing, missing


def test_the_stub_declares_every_public_name():
    declared = {n.name for n in stub_tree().body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert set(thalia.__all__) <= declared


def test_the_stub_declares_every_public_method():
    classes = {n.name: n for n in stub_tree().body if isinstance(n, ast.ClassDef)}
    missing = []
    for name in thalia.__all__:
        obj = getattr(thalia, name)
        if not inspect.isclass(obj):
            continue
        declared = {n.name for n in classes[name].body if isinstance(n, ast.FunctionDef)}
        declared |= {n.target.id for n in classes[name].body if isinstance(n, ast.AnnAssign)}
        missing += [f"{name}.{m}" for m in public_methods(obj) if m not in declared]
    assert not missing, missing
