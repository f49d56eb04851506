"""The device machinery on every machine: device objects, transfers, mixed-device errors, ``Module.to``, the
default device, ``ember.cuda``.  "cuda" is the real GPU when present, else the NumPy-backed stand-in."""
import numpy as np
import pytest
import torch

import ember
from ember import nn


def test_device_objects_match_torch():
    for spec in ["cpu", "cuda", "cuda:1", "cuda:3"]:
        e, t = ember.device(spec), torch.device(spec)
        assert (str(e), repr(e), e.type, e.index) == (str(t), repr(t), t.type, t.index)
    assert ember.device("cuda", 2) == ember.device("cuda:2")
    assert ember.device("cpu") != "cpu" and (torch.device("cpu") != "cpu")     # PyTorch: never equal to a str
    with pytest.raises(RuntimeError, match="device type"):
        ember.device("gpu")


def test_no_cuda_is_one_clear_line():
    if ember.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.ones(2).to("cuda")
    assert ember.cuda.device_count() == 0 and ember.cuda.memory_allocated() == 0


def test_to_and_back_keeps_values_strides_and_gradient(cuda):
    x = ember.randn(3, 4, dtype=ember.float64).t().requires_grad_()
    y = x.to("cuda")
    assert y.device == ember.device("cuda", 0) and y.is_cuda and not y.is_cpu and y.get_device() == 0
    assert y.stride() == x.stride() == (1, 4)          # a dense tensor keeps its strides (preserve_format)
    assert y.to("cuda") is y and y.cuda() is y
    z = (y * y).sum()
    assert z.device.type == "cuda"
    z.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    back = y.cpu()
    assert back.device == ember.device("cpu") and back.stride() == (1, 4)
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())


def test_to_with_dtype_and_tensor(cuda):
    x = ember.arange(6).reshape(2, 3)
    y = x.to("cuda", ember.float32)
    assert y.dtype == ember.float32 and y.is_cuda
    z = ember.zeros(2).to(y)
    assert z.is_cuda and z.dtype == ember.float32
    assert x.to(device="cuda", dtype=ember.float64).dtype == ember.float64


def test_numpy_of_a_device_tensor_is_refused_like_torch(cuda):
    y = ember.ones(2, device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        y.numpy()
    with pytest.raises(TypeError, match="Tensor.cpu"):
        np.asarray(y)
    assert y.tolist() == [1.0, 1.0] and y.sum().item() == 2.0
    np.testing.assert_array_equal(y.numpy(force=True), [1.0, 1.0])


def test_mixed_devices_name_both(cuda):
    a = ember.ones(2, 3, device="cuda")
    b = ember.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"same device.*cuda:0.*cpu|same device.*cpu.*cuda:0"):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        nn.Linear(3, 2)(a)
    # a 0-d CPU tensor is a scalar: it joins the device, as in PyTorch
    c = a * ember.tensor(2.0)
    assert c.is_cuda and c.sum().item() == 12.0


def test_creation_device_argument_and_default_device(cuda):
    for make in (lambda d: ember.zeros(2, 3, device=d), lambda d: ember.arange(5, device=d),
                 lambda d: ember.tensor([1.0, 2.0], device=d), lambda d: ember.randn(4, device=d),
                 lambda d: ember.full((2,), 7, device=d), lambda d: ember.eye(3, device=d)):
        assert make("cuda").is_cuda and not make("cpu").is_cuda and not make(None).is_cuda
    x = ember.ones(3, device="cuda")
    assert ember.zeros_like(x).is_cuda and ember.randn_like(x).is_cuda and x.new_zeros(2).is_cuda
    assert not ember.zeros_like(x, device="cpu").is_cuda
    with ember.device("cuda"):
        assert ember.zeros(2).is_cuda and ember.get_default_device() == ember.device("cuda", 0)
    assert not ember.zeros(2).is_cuda
    ember.set_default_device("cuda")
    try:
        assert ember.ones(1).is_cuda
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")


def test_module_to_moves_parameters_in_place(cuda):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params = list(m.parameters())
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    assert m.to("cuda") is m
    assert [p for p in m.parameters()] == params and all(p.is_cuda for p in params)
    assert all(b.is_cuda for b in m.buffers())
    m.cuda().cpu()
    assert not any(p.is_cuda for p in m.parameters())
    m.to(ember.device("cuda"), ember.float64)
    assert all(p.is_cuda and p.dtype == ember.float64 for p in m.parameters())
    assert opt.param_groups[0]["params"][0] is params[0]


def test_cuda_namespace(cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() >= 1
    assert ember.cuda.current_device() == 0 and isinstance(ember.cuda.get_device_name(), str)
    assert len(ember.cuda.get_device_capability()) == 2
    ember.cuda.synchronize()
    ember.cuda.manual_seed(0)
    assert ember.cuda.memory_allocated() >= 0 and ember.cuda.max_memory_allocated() >= 0
    with ember.cuda.device(0):
        pass
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.ones(1).to(f"cuda:{ember.cuda.device_count()}")


def test_pin_memory_with_cuda_is_accepted(cuda):
    x = ember.ones(3)
    assert x.pin_memory() is x and not x.is_pinned()
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.arange(4.0)), batch_size=2,
                                         pin_memory=True)
    batches = [b[0].to("cuda") for b in loader]
    assert all(b.is_cuda for b in batches) and ember.cat(batches).sum().item() == 6.0


def test_mixed_device_error_names_the_op_and_shapes(cuda):
    a = ember.ones(4, 5, device="cuda")
    with pytest.raises(RuntimeError) as e:
        ember.matmul(a, ember.ones(5, 2))
    msg = str(e.value)
    assert "cuda:0" in msg and "cpu" in msg and "(5, 2)" in msg


def test_load_state_dict_copies_across_devices(cuda):
    src = nn.Linear(3, 2)
    dst = nn.Linear(3, 2).to("cuda")
    dst.load_state_dict(src.state_dict())                   # host values into device parameters
    assert dst.weight.is_cuda
    np.testing.assert_array_equal(dst.weight.detach().cpu().numpy(), src.weight.detach().numpy())
    back = nn.Linear(3, 2)
    back.load_state_dict(dst.state_dict())                  # device values into host parameters
    assert not back.weight.is_cuda
    np.testing.assert_array_equal(back.weight.detach().numpy(), src.weight.detach().numpy())


def test_cli_device_without_cuda_is_one_line(tmp_path, capsys):
    if ember.cuda.is_available():
        pytest.skip("a CUDA device is present")
    from ember.cli import main
    cfg = tmp_path / "run.toml"
    cfg.write_text('epochs = 1\ndevice = "cuda"\n[model]\nname = "mlp"\n[data]\nname = "digits"\n'
                   '[optimizer]\nname = "sgd"\nlr = 0.1\n')
    assert main(["train", str(cfg), "--output", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CUDA is not available" in err[0]


def test_compile_runs_cuda_tensors_eagerly_with_one_warning(cuda):
    m = nn.Linear(4, 3)
    x = ember.randn(2, 4)
    want = m(x).detach().numpy()
    m.to("cuda")
    cm = ember.compile(m)
    with pytest.warns(UserWarning, match="CUDA device"):
        y = cm(x.to("cuda"))
    assert y.is_cuda and cm.stats["eager_calls"] == 1
    np.testing.assert_allclose(y.detach().cpu().numpy(), want, rtol=1e-6)
    assert "eager (tensors on a CUDA device" in cm.explain()


def test_type_names_a_cuda_tensor_like_torch(cuda):
    assert ember.ones(2, device="cuda").type() == "ember.cuda.FloatTensor"
    assert ember.ones(2, dtype=ember.int64).type() == "ember.LongTensor"


def test_dlpack_device_of_a_cuda_tensor(cuda):
    assert ember.ones(2).__dlpack_device__() == (1, 0)
    assert ember.ones(2, device="cuda").__dlpack_device__() == (2, 0)
