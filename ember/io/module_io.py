"""Whole-module save and load (``torch.save(model, f)`` / ``torch.load(f, weights_only=False)``) without
pickle.

``ember.save`` stores a ``Module`` found anywhere in the saved object as a node of the JSON structure in the
safetensors metadata::

    {"__nn_module__": {"id": 0, "class": "package.module:Qual.Name", "training": true,
                       "parameters": [[name, tensor-ref or null], ...], "buffers": [[name, ref], ...],
                       "non_persistent": [name, ...], "modules": [[name, node or null], ...],
                       "attributes": [[name, value], ...]}}

in registration order (so ``state_dict()`` keys keep their order; a module met again is stored as
``{"__nn_module_ref__": id}``, so shared children stay shared); tensors go to the file's tensor section like
every other tensor, once each (tied weights stay tied).  Plain attributes are stored when they are values the
format knows (numbers, strings, tuples, lists, dicts, tensors, NumPy arrays and dtypes), devices, or module-
level functions and classes (stored by import path, e.g. ``ember.nn.functional:relu``).  Hooks are not saved.

Loading such a node needs the classes it names, so ``ember.load`` refuses it unless ``weights_only=False``
(the trust PyTorch asks for the same file).  Then it imports each named module, takes the named attribute,
checks it is an ``nn.Module`` subclass (or, for a stored function, a callable), creates the object without
running its ``__init__`` and fills in the stored state.  Nothing else from the file runs: no pickle, no eval.
"""
from __future__ import annotations

import importlib
from collections import OrderedDict

__all__ = ["encode_object", "decode_node", "is_code_node"]

_CODE_TAGS = ("__nn_module__", "__nn_module_ref__", "__callable__")


def _internal_keys():
    from ..nn.module import Module
    return frozenset(Module().__dict__)


def _import_path(obj) -> str | None:
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not mod or not qual or "<locals>" in qual or "<lambda>" in qual:
        return None
    return f"{mod}:{qual}"


def encode_object(enc, obj, path: list):
    """The structure node for ``obj`` when it is a Module, a device or an importable function/class; None
    for anything else (the caller then reports the unsupported type)."""
    from ..nn.module import Module
    from ..tensor import device
    if isinstance(obj, Module):
        return _encode_module(enc, obj, path)
    if isinstance(obj, device):
        return {"__device__": str(obj)}
    if callable(obj) and (isinstance(obj, type) or type(obj).__name__ in ("function", "builtin_function_or_method")):
        where = _import_path(obj)
        if where is None:
            raise TypeError(f"ember.save: cannot store a {type(obj).__name__} "
                            f"({getattr(obj, '__qualname__', obj)}) at '{'/'.join(path) or '<root>'}': only "
                            f"module-level functions and classes can be saved (by import path), not lambdas or "
                            f"nested functions")
        _resolve(where, "ember.save")       # it must import back, or the file could not be loaded
        return {"__callable__": where}
    return None


def _encode_module(enc, m, path):
    cls = type(m)
    where = _import_path(cls)
    if where is None:
        raise TypeError(f"ember.save: the module at '{'/'.join(path) or '<root>'}' is a {cls.__qualname__}, "
                        f"defined inside a function; only classes defined at module level can be saved whole "
                        f"(save its state_dict() instead)")
    seen = enc.__dict__.setdefault("_ember_modules", {})
    if id(m) in seen:                   # the same module object again (a shared child): a reference
        return {"__nn_module_ref__": seen[id(m)][0]}
    seen[id(m)] = (len(seen), m)
    d = m.__dict__
    internal = _internal_keys()
    node = {
        "id": seen[id(m)][0],
        "class": where,
        "training": bool(d.get("training", True)),
        "parameters": [[k, None if p is None else enc.encode(p, path + [k])] for k, p in d["_parameters"].items()],
        "buffers": [[k, None if b is None else enc.encode(b, path + [k])] for k, b in d["_buffers"].items()],
        "non_persistent": sorted(d["_non_persistent_buffers_set"]),
        "modules": [[k, None if c is None else enc.encode(c, path + [k])] for k, c in d["_modules"].items()],
        "attributes": [[k, enc.encode(v, path + [k])] for k, v in d.items() if k not in internal],
    }
    return {"__nn_module__": node}


def is_code_node(node) -> bool:
    return isinstance(node, dict) and any(t in node for t in _CODE_TAGS)


def _resolve(where: str, who: str):
    modname, _, qual = where.partition(":")
    if not modname or not qual:
        raise ValueError(f"{who}: malformed import path {where!r}")
    try:
        obj = importlib.import_module(modname)
    except ImportError as e:
        raise ImportError(f"{who}: cannot import module '{modname}' for '{qual}' ({e})") from None
    for part in qual.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(f"{who}: module '{modname}' has no '{qual}' (the class or function the file "
                                 f"names must be importable, e.g. defined in the script that loads it)") from None
    return obj


def decode_node(dec, node):
    """Rebuild a ``__nn_module__`` / ``__callable__`` / ``__device__`` node (the caller checked that code
    nodes are allowed)."""
    from ..nn.module import Module
    from ..tensor import device
    if "__device__" in node:
        return device(node["__device__"])
    made = dec.__dict__.setdefault("_ember_modules", {})
    if "__nn_module_ref__" in node:
        ref = node["__nn_module_ref__"]
        if ref not in made:
            raise dec.bad(f"module reference {ref!r} points to no module stored before it")
        return made[ref]
    if "__callable__" in node:
        fn = _resolve(node["__callable__"], "ember.load")
        if not callable(fn):
            raise dec.bad(f"'{node['__callable__']}' is not callable")
        return fn
    spec = node["__nn_module__"]
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise dec.bad("malformed __nn_module__ entry in the metadata")
    cls = _resolve(spec["class"], "ember.load")
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise dec.bad(f"'{spec['class']}' is not an nn.Module subclass; refusing to build it")
    m = cls.__new__(cls)
    Module.__init__(m)
    made[spec.get("id")] = m
    d = m.__dict__
    d["training"] = bool(spec.get("training", True))

    def pairs(key):
        items = spec.get(key, [])
        if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                  for p in items):
            raise dec.bad(f"malformed '{key}' of {spec['class']} in the metadata")
        return items

    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    params = OrderedDict()
    for k, v in pairs("parameters"):
        p = None if v is None else dec.decode(v)
        if p is not None and not isinstance(p, Parameter):
            p = Parameter(p, requires_grad=p.requires_grad) if isinstance(p, Tensor) else None
        params[k] = p
    d["_parameters"] = params
    d["_buffers"] = OrderedDict((k, None if v is None else dec.decode(v)) for k, v in pairs("buffers"))
    d["_non_persistent_buffers_set"] = set(spec.get("non_persistent", []))
    mods = OrderedDict()
    for k, v in pairs("modules"):
        c = None if v is None else dec.decode(v)
        if c is not None and not isinstance(c, Module):
            raise dec.bad(f"child '{k}' of {spec['class']} is not a module")
        mods[k] = c
    d["_modules"] = mods
    for k, v in pairs("attributes"):
        d[k] = dec.decode(v)
    return m


# -- the allowlist of weights_only loads (PyTorch's torch.serialization.add_safe_globals) -----------------------
_SAFE_GLOBALS: list = []


def add_safe_globals(safe_globals) -> None:
    """Allow ``load(..., weights_only=True)`` to rebuild these classes and functions (objects, or
    ``(object, "module.Name")`` pairs as PyTorch accepts)."""
    for g in safe_globals:
        _SAFE_GLOBALS.append(g[0] if isinstance(g, tuple) else g)


def get_safe_globals() -> list:
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    _SAFE_GLOBALS.clear()


class safe_globals:
    """``with safe_globals([Net, nn.Linear, ...]):`` allows those globals for the block only."""

    def __init__(self, safe_globals) -> None:
        self._items = list(safe_globals)

    def __enter__(self):
        self._n = len(_SAFE_GLOBALS)
        add_safe_globals(self._items)
        return self

    def __exit__(self, *exc):
        del _SAFE_GLOBALS[self._n:]
        return False


def _node_path(node):
    if "__nn_module__" in node:
        spec = node["__nn_module__"]
        return spec.get("class") if isinstance(spec, dict) else None
    return node.get("__callable__")


def code_allowed(dec, node) -> bool:
    """Whether the decoder may rebuild this code node: always with ``weights_only=False``; with the default
    ``weights_only=True`` only classes/functions on the safe-globals allowlist (compared by import path, so
    nothing is imported to decide)."""
    if getattr(dec, "allow_code", False) or "__nn_module_ref__" in node:
        return True
    path = _node_path(node)
    return path is not None and any(_import_path(g) == path for g in _SAFE_GLOBALS)


def refusal(node) -> str:
    path = _node_path(node)
    modname, _, qual = (path or "?:?").partition(":")
    return (f"the file holds a whole module/function ('{modname}.{qual}'); rebuilding it imports that code, so "
            f"load it with weights_only=False if you trust the file, or allow the classes it names with "
            f"torch.serialization.safe_globals([...]) / add_safe_globals([...]) (or save and load the "
            f"state_dict() instead)")
