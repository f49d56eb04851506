"""``ember.dtype`` (ember/_dtype.py): dtypes print, compare and answer as PyTorch 2.13's ``torch.dtype``, and still
pass to NumPy and equal NumPy's dtypes (issue 12)."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.tensor import Size

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ALIASES = ["float", "double", "half", "long", "int", "short"]


@pytest.fixture
def torch_prefix():
    """Print as under the compat hook (``ember.compat.install()`` sets this prefix, as for ``Size``)."""
    old = Size._prefix
    Size._prefix = "torch"
    try:
        yield
    finally:
        Size._prefix = old


@pytest.mark.parametrize("name", NAMES + ALIASES)
def test_str_repr_format_as_torch(name, torch_prefix):
    e, t = getattr(ember, name), getattr(torch, name)
    assert (str(e), repr(e), f"{e}", format(e, ""), f"{[e]}") == (str(t), repr(t), f"{t}", format(t, ""), f"{[t]}")
    with pytest.raises(TypeError, match="unsupported format string"):
        format(e, ">20")


@pytest.mark.parametrize("name", NAMES)
def test_without_the_hook_the_prefix_is_embers(name):
    d = getattr(ember, name)
    assert str(d) == repr(d) == f"ember.{name}"


@pytest.mark.parametrize("name", NAMES)
def test_attributes_as_torch(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert isinstance(e, ember.dtype) and type(e).__name__ == "dtype"
    assert (e.is_floating_point, e.is_complex, e.is_signed, e.itemsize, e.abbr) == \
        (t.is_floating_point, t.is_complex, t.is_signed, t.itemsize, t.abbr)
    assert str(e.to_real()).split(".")[-1] == str(t.to_real()).split(".")[-1]
    if t.is_floating_point and t is not torch.float16:
        assert str(e.to_complex()).split(".")[-1] == str(t.to_complex()).split(".")[-1]
    elif not t.is_floating_point:
        with pytest.raises(RuntimeError):
            t.to_complex()
        with pytest.raises(RuntimeError, match="to_complex"):
            e.to_complex()


def test_complex_dtypes_real_and_back():
    assert ember.float32.to_complex().to_real() is ember.float32
    assert ember.float64.to_complex().itemsize == torch.complex128.itemsize == 16
    assert ember.float64.to_complex().is_complex and ember.float64.to_complex().to_complex() is ember.float64.to_complex()


@pytest.mark.parametrize("alias,name", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                        ("long", "int64"), ("int", "int32"), ("short", "int16")])
def test_aliases_are_the_same_objects(alias, name):
    assert getattr(torch, alias) is getattr(torch, name)
    assert getattr(ember, alias) is getattr(ember, name)


def test_equal_and_hash_as_numpy_dtypes_both_ways():
    x = ember.ones(2)
    assert x.dtype is ember.float32
    for other in (np.float32, np.dtype("float32"), ember.float32, "float32"):
        assert x.dtype == other and other == x.dtype and not (x.dtype != other) and not (other != x.dtype)
    for other in (np.float64, np.dtype("int32"), ember.float16, None, 3, object()):
        assert x.dtype != other and other != x.dtype and not (x.dtype == other)
    assert hash(ember.float32) == hash(np.dtype(np.float32))
    assert {np.dtype("float32"): "a"}[x.dtype] == "a" and {ember.int64: "b"}[np.dtype("int64")] == "b"
    assert x.dtype in (np.float16, np.float32) and np.dtype("float32") in (ember.float16, ember.float32)
    assert len({ember.float32, np.dtype("float32"), ember.float}) == 1
    assert ember.float32 != torch.float32      # another library's dtype is not ember's


def test_a_dtype_is_not_equal_to_other_objects_as_in_torch():
    from unittest import mock
    for m in (ember, torch):
        # a tensor is no dtype (NumPy would read ember's through its .dtype; the reflected Tensor.__eq__ raised)
        assert (m.float32 == m.ones(2)) is False and (m.float32 != m.ones(2)) is True
        assert m.float32 == mock.ANY and (m.float64 == None) is False      # noqa: E711 - None: not float64
        assert (m.float32 == 1) is False and (m.float32 == [1]) is False


def test_numpy_takes_an_ember_dtype_without_warnings():
    a = np.arange(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.zeros(2, ember.float16).dtype == np.float16
        assert a.astype(ember.int8).dtype == np.int8
        assert np.dtype(ember.float64) is np.dtype(np.float64)
        assert np.add(a, a, dtype=ember.float32).dtype == np.float32
        assert np.result_type(ember.int16, np.int8) == np.int16
        assert np.finfo(ember.float32).eps == np.finfo(np.float32).eps
        assert np.iinfo(ember.uint8).max == 255
        assert np.issubdtype(ember.float64, np.floating)
    assert (ember.float32.kind, ember.float32.char, ember.float32.type, ember.float32.name) == ("f", "f", np.float32,
                                                                                               "float32")


def test_singletons_through_pickle_and_copy():
    for name in NAMES:
        d = getattr(ember, name)
        assert pickle.loads(pickle.dumps(d)) is d and copy.copy(d) is d and copy.deepcopy(d) is d
    assert pickle.loads(pickle.dumps({"dt": ember.int64}))["dt"] is ember.int64


def test_immutable_and_not_constructible():
    with pytest.raises(AttributeError):
        ember.float32.itemsize = 8
    with pytest.raises(TypeError, match="cannot create"):
        ember.dtype()
    with pytest.raises(TypeError):
        torch.dtype()


@pytest.mark.parametrize("given", [ember.float64, np.float64, np.dtype("float64"), float])
def test_factories_to_and_type_take_any_dtype_spelling(given):
    assert ember.zeros(2, dtype=given).dtype is ember.float64
    assert ember.tensor([1, 2], dtype=given).dtype is ember.float64
    assert ember.ones(2).to(given).dtype is ember.float64
    assert ember.ones(2).type(given).dtype is ember.float64
    assert ember.arange(3, dtype=given).dtype is ember.float64


def test_public_functions_return_ember_dtypes():
    assert ember.get_default_dtype() is ember.float32
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.get_default_dtype() is ember.float64 and ember.tensor([1.0]).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.promote_types(ember.int32, ember.float16) is ember.float16
    assert ember.result_type(ember.tensor([1]), 2.5) is ember.float32
    assert ember.nn.Linear(2, 2).weight.dtype is ember.float32
    assert ember.ones(2).double().dtype is ember.float64 and ember.ones(2).long().dtype is ember.int64


def test_finfo_and_iinfo_take_ember_dtypes():
    for name in ("float16", "float32", "float64"):
        e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
        assert (e.eps, e.max, e.tiny, e.bits, e.dtype) == (t.eps, t.max, t.tiny, t.bits, t.dtype)
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
        assert (e.min, e.max, e.bits, e.dtype) == (t.min, t.max, t.bits, t.dtype)


def test_tensor_repr_names_the_dtype(torch_prefix):
    for name in ("float64", "float16", "int32", "uint8"):
        e = ember.tensor([1, 2], dtype=getattr(ember, name))
        t = torch.tensor([1, 2], dtype=getattr(torch, name))
        assert repr(e) == repr(t)
    assert repr(ember.nn.ParameterList([ember.nn.Parameter(ember.ones(2))])) == \
        repr(torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2))]))


def _program(m, out):
    """What a tutorial-style program prints about dtypes."""
    tensor = m.rand(3, 4)
    out.append(f"Datatype of tensor: {tensor.dtype}")
    x = m.tensor([1, 2, 3])
    out.append(str(x.dtype))
    out.append(repr([x.dtype, x.float().dtype, x.to(m.float64).dtype, x.half().dtype, (x > 1).dtype]))
    out.append(f"{m.get_default_dtype()} {m.promote_types(m.int8, m.uint8)} {m.float is m.float32}")
    out.append(str({"dtype": m.int16}))
    out.append(str(m.ones(2, dtype=m.float64)))
    out.append(str((m.long, m.int, m.short, m.double, m.half, m.bool)))
    out.append(str(isinstance(x.dtype, m.dtype)))
    out.append(str(sorted(str(d) for d in {m.float32, m.float, m.float64})))


def test_a_program_printing_dtypes_prints_as_under_torch(torch_prefix):
    e_out, t_out = [], []
    _program(ember, e_out)
    _program(torch, t_out)
    assert e_out == t_out


def test_save_and_load_keep_ember_dtypes(tmp_path):
    path = str(tmp_path / "d.pt")
    ember.save({"d": ember.float16, "n": np.dtype(">i4"), "shape": (2, ember.int64)}, path)
    back = ember.load(path)
    assert back["d"] is ember.float16 and back["shape"][1] is ember.int64
    assert isinstance(back["n"], np.dtype) and back["n"] == np.dtype(">i4")


def test_a_byte_swapped_array_reports_the_native_dtype():
    x = ember.from_numpy(np.arange(3, dtype=">i4"))
    assert x.dtype is ember.int32
    assert repr(x) == "tensor([0, 1, 2], dtype=ember.int32)"      # was dtype=ember.>i4


def test_scalar_type_names_in_messages_come_from_the_dtype():
    """PyTorch's ScalarType names ('Long', 'Float') in messages: looked up by the dtype's name, not its printed
    form (geqrf said 'ember.int64', sparse mm 'expected scalar type ember.float32')."""
    msg = []
    for m in (ember, torch):
        with pytest.raises(NotImplementedError) as info:
            m.geqrf(m.ones(2, 2, dtype=m.int64))
        msg.append(str(info.value))
    assert msg[0] == msg[1] == "\"geqrf_cpu\" not implemented for 'Long'"
    s = ember.sparse_coo_tensor([[0, 1], [1, 0]], ember.ones(2), (2, 2))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        ember.sparse.mm(s, ember.ones(2, 2, dtype=ember.float64))
