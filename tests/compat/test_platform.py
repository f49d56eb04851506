"""Class 2 of issue 12: PyTorch's platform namespaces (cuda, accelerator, backends, multiprocessing,
nn.parallel, onnx, set_default_device) and one clear error for a device ember does not have."""
import pickle

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.compat._mp_workers import hogwild_worker, spawned


def test_cuda_namespace_answers_as_cpu_only_torch():
    for lib in (ember, torch):
        assert lib.cuda.is_available() is False
        assert lib.cuda.device_count() == 0
        lib.cuda.manual_seed(1)
        lib.cuda.manual_seed_all(1)
        lib.cuda.empty_cache()
        assert lib.cuda.memory_allocated() == 0
    ember.cuda.synchronize()
    assert ember.accelerator.is_available() is torch.accelerator.is_available() is False
    assert ember.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0


def test_backends_flags_are_kept():
    b = ember.backends
    assert b.cudnn.enabled is True and b.cudnn.benchmark is False and b.cudnn.deterministic is False
    b.cudnn.benchmark = True
    assert ember.backends.cudnn.benchmark is True
    b.cudnn.benchmark = False
    with b.cudnn.flags(enabled=False, deterministic=True):
        assert b.cudnn.enabled is False and b.cudnn.deterministic is True
    assert b.cudnn.enabled is True
    assert b.mps.is_available() is torch.backends.mps.is_available() is False
    assert b.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    b.cuda.matmul.allow_tf32 = True
    assert b.cuda.matmul.allow_tf32 is True
    b.cuda.matmul.allow_tf32 = False
    import importlib
    assert importlib.import_module("ember.backends.cudnn") is b.cudnn   # the submodule path scripts import
    assert isinstance(b.mkldnn.is_available(), bool)


@pytest.mark.parametrize("make", [
    lambda: ember.tensor([1.0], device="cuda"),
    lambda: ember.zeros(2, device=ember.device("cuda:0")),
    lambda: ember.ones(2).to("mps"),
    lambda: ember.ones(2).to(device="cuda"),
    lambda: ember.ones(2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: ember.set_default_device("cuda"),
])
def test_unavailable_device_is_one_clear_line(make):
    with pytest.raises(RuntimeError) as e:
        make()
    msg = str(e.value)
    assert "\n" not in msg and "'cpu'" in msg
    assert "cuda" in msg or "mps" in msg


def test_device_objects_for_absent_devices_can_be_made():
    for spec in ["cuda", "cuda:1", "mps", "cpu"]:
        e, t = ember.device(spec), torch.device(spec)
        assert (repr(e), str(e), e.type, e.index) == (repr(t), str(t), t.type, t.index)
    assert repr(ember.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert (ember.device("cuda") == ember.device("cuda:0")) == (torch.device("cuda") == torch.device("cuda:0"))
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        ember.device("foo")
    dev = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    assert ember.ones(2).to(dev).device == dev
    ember.set_default_device("cpu")
    assert ember.get_default_device() == ember.device("cpu")


def test_data_parallel_is_a_pass_through_and_onnx_export_explains():
    import importlib
    m = nn.Linear(3, 2)
    dp = nn.DataParallel(m)
    x = ember.ones(4, 3)
    assert dp.module is m
    assert np.array_equal(dp(x).detach().numpy(), m(x).detach().numpy())
    assert list(dp.state_dict()) == list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())
    from ember.nn.parallel import DistributedDataParallel  # noqa: F401
    assert importlib.import_module("ember.onnx") is ember.onnx and callable(ember.onnx.export)


def test_share_memory_and_pickling_to_the_same_memory():
    x = ember.arange(6.0).reshape(2, 3)
    assert not x.is_shared() and not torch.zeros(1).is_shared()
    assert x.share_memory_() is x and x.is_shared()
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    m = nn.Linear(3, 2).share_memory()
    assert all(p.is_shared() for p in m.parameters())
    ordinary = pickle.loads(pickle.dumps(ember.ones(2)))     # unshared tensors still pickle by value
    assert ordinary.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_children_write_the_parents_shared_parameters(method):
    import ember.multiprocessing as mp
    ctx = mp.get_context(method)
    model = nn.Linear(2, 1)
    with ember.no_grad():
        model.weight.fill_(0.0)
        model.bias.fill_(0.0)
    model.share_memory()
    # one after the other: two at once may both read 0 before either writes (hogwild's unsynchronized updates;
    # under a loaded machine that lost update made this test fail once), and what is tested is that each
    # child's writes land in the parent's memory
    for r in range(2):
        p = ctx.Process(target=hogwild_worker, args=(model, r))
        p.start()
        p.join()
        assert p.exitcode == 0
    assert model.weight.tolist() == [[2.0, 2.0]] and model.bias.tolist() == [2.0]


def test_multiprocessing_spawn_runs_fn_with_index():
    import ember.multiprocessing as mp
    shared = ember.zeros(3).share_memory_()
    mp.spawn(spawned, args=(shared,), nprocs=2)
    assert shared.tolist() == [1.0, 2.0, 0.0]
    assert {"Process", "Queue", "Pool", "get_context", "set_start_method", "spawn"} <= set(dir(mp))


def _double(x):
    return x * 2


def test_more_platform_namespaces_answer_as_cpu_only_torch():
    for lib in (ember, torch):
        assert lib.version.cuda is None
        assert lib.mps.device_count() == 0 and lib.xpu.is_available() is False
        assert lib.compile(_double)(lib.ones(2)).tolist() == [2.0, 2.0]
        lib.use_deterministic_algorithms(True)
        assert lib.are_deterministic_algorithms_enabled() is True
        lib.use_deterministic_algorithms(False)
        lib.set_float32_matmul_precision("high")
        assert lib.get_float32_matmul_precision() == "high"
        lib.set_float32_matmul_precision("highest")
        with lib.autograd.set_detect_anomaly(True):
            pass
        assert lib.ones(2).is_pinned() is False
        with pytest.raises(RuntimeError, match="(?i)accelerator device when none is available"):
            lib.ones(2).pin_memory()
    # ember.distributed runs over MPI (tests/distributed); without a GPU, NCCL is refused
    assert ember.distributed.is_initialized() is False and ember.distributed.is_nccl_available() is False
    with pytest.raises(RuntimeError, match="nccl"):
        ember.distributed.init_process_group("nccl")
    # the disabled scaler and autocast: a training step gives the plain float32 result
    lin = nn.Linear(2, 1)
    opt = ember.optim.SGD(lin.parameters(), lr=0.1)
    scaler = ember.amp.GradScaler()
    before = lin.weight.detach().clone()
    with ember.autocast("cpu", dtype=ember.float16):
        loss = lin(ember.ones(1, 2)).sum()
    assert loss.dtype == ember.float32
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert np.allclose((before - lin.weight.detach()).numpy(), 0.1)
    # as torch: cuda.amp.GradScaler is a (deprecated, warning) subclass taking init_scale first, not amp's class
    assert issubclass(ember.cuda.amp.GradScaler, ember.amp.GradScaler)
    assert ember.cuda.amp.GradScaler is not ember.amp.GradScaler
    assert ember.jit.script(lin) is lin


def test_device_and_layout_questions_answer_as_torch_on_cpu():
    t, e = torch.ones(1), ember.ones(1)
    for name in ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_mkldnn", "is_ipu", "is_maia", "is_mtia",
                 "is_vulkan", "is_xla", "is_sparse", "is_sparse_csr", "is_quantized", "is_nested"]:
        assert getattr(e, name) == getattr(t, name), name


def test_a_shared_tensor_moved_to_new_memory_is_no_longer_shared():
    m = nn.Linear(2, 2).share_memory()
    m.double()                                    # new arrays (as PyTorch: a dtype change leaves shared memory)
    assert not m.weight.is_shared()
    assert pickle.loads(pickle.dumps(m.weight)).dtype == ember.float64     # pickles by value again
