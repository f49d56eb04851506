"""``ember.nn.attention`` (SDPBackend, sdpa_kernel, the flash-impl registry, ``bias``) and
``ember.nn.utils.stateless`` against PyTorch, and the three modules under the compat hook."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
import torch.nn.attention as TA
import torch.nn.attention.bias as TB
import torch.nn.functional as TF
from torch.nn.utils import stateless as TS

import ember
import ember.nn.attention as EA
import ember.nn.attention.bias as EB
import ember.nn.functional as EF
from ember.nn.utils import stateless as ES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_sdpbackend_members_like_torch():
    assert list(EA.SDPBackend.__members__) == list(TA.SDPBackend.__members__)
    for name in TA.SDPBackend.__members__:
        t, e = getattr(TA.SDPBackend, name), getattr(EA.SDPBackend, name)
        assert (int(e), repr(e), str(e), e.name, e.value, hash(e)) == (int(t), repr(t), str(t), t.name, t.value,
                                                                      hash(t))
        assert (e == int(e)) == (t == int(t))        # not ints: False in both
    assert EA.SDPBackend(2) is EA.SDPBackend.EFFICIENT_ATTENTION
    assert sorted(EA.__all__) == sorted(TA.__all__)
    assert EA.WARN_FOR_UNFUSED_KERNELS is False


def _flags(cuda):
    return (cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(), cuda.math_sdp_enabled(),
            cuda.cudnn_sdp_enabled())


@pytest.mark.parametrize("names", [["MATH"], ["FLASH_ATTENTION"], ["CUDNN_ATTENTION", "MATH"], [],
                                   ["EFFICIENT_ATTENTION", "EFFICIENT_ATTENTION"], "OVERRIDEABLE"])
def test_sdpa_kernel_switches_like_torch(names):
    def arg(mod):
        return getattr(mod.SDPBackend, names) if isinstance(names, str) else [getattr(mod.SDPBackend, n)
                                                                              for n in names]
    before = _flags(ember.backends.cuda)
    with TA.sdpa_kernel(arg(TA)) as ct, EA.sdpa_kernel(arg(EA)) as ce:
        assert ce == ct == {}
        assert _flags(ember.backends.cuda) == _flags(torch.backends.cuda)
        assert EA._cur_sdpa_kernel_backends() == [getattr(EA.SDPBackend, b.name)
                                                  for b in TA._cur_sdpa_kernel_backends()]
    assert _flags(ember.backends.cuda) == before == _flags(torch.backends.cuda)


def test_sdpa_kernel_set_priority_like_torch():
    assert EA._get_sdp_priority_order() == torch._C._get_sdp_priority_order()
    order = ["CUDNN_ATTENTION", "MATH"]
    with TA.sdpa_kernel([getattr(TA.SDPBackend, n) for n in order], set_priority=True):
        with EA.sdpa_kernel([getattr(EA.SDPBackend, n) for n in order], set_priority=True):
            assert EA._get_sdp_priority_order() == torch._C._get_sdp_priority_order()
    assert EA._get_sdp_priority_order() == torch._C._get_sdp_priority_order()


@pytest.mark.parametrize("bad", [(0,), "math", 1, None])
def test_sdpa_kernel_rejects_what_torch_rejects(bad):
    bad_t = (TA.SDPBackend.MATH,) if bad == (0,) else bad
    bad_e = (EA.SDPBackend.MATH,) if bad == (0,) else bad
    with pytest.raises(AssertionError) as te:
        with TA.sdpa_kernel(bad_t):
            pass
    with pytest.raises(AssertionError) as ee:
        with EA.sdpa_kernel(bad_e):
            pass
    assert str(ee.value) == str(te.value)


def _cases(lib):
    ones, zeros = lib.ones, lib.zeros
    q, k = ones(2, 3, 4, 8), ones(2, 3, 6, 8)
    sdpa = (TF if lib is torch else EF).scaled_dot_product_attention
    return {
        "4d": lambda: sdpa(q, k, k),
        "3d": lambda: sdpa(q[0], k[0], k[0]),
        "mask 3d": lambda: sdpa(q, k, k, attn_mask=zeros(3, 4, 6)),
        "mask 2d": lambda: sdpa(q, k, k, attn_mask=zeros(1, 6)),
        "mask 4d": lambda: sdpa(q, k, k, attn_mask=zeros(2, 1, 4, 6)),
        "bool mask": lambda: sdpa(q, k, k, attn_mask=ones(4, 6, dtype=lib.bool)),
        "dropout": lambda: sdpa(q, k, k, dropout_p=0.5),
        "value dim": lambda: sdpa(q, k, ones(2, 3, 6, 5)),
        "batch": lambda: sdpa(q, ones(1, 3, 6, 8), ones(1, 3, 6, 8)),
        "gqa": lambda: sdpa(ones(2, 4, 4, 8), ones(2, 2, 6, 8), ones(2, 2, 6, 8), enable_gqa=True),
        "heads": lambda: sdpa(ones(2, 4, 4, 8), ones(2, 2, 6, 8), ones(2, 2, 6, 8)),     # matmul's error
        "value batch": lambda: sdpa(q, k, ones(2, 2, 6, 8)),
        "stride": lambda: sdpa(ones(2, 3, 8, 4).transpose(-1, -2), k, k),
        "empty 3d": lambda: sdpa(ones(3, 0, 8), ones(3, 6, 8), ones(3, 6, 8)),
        "causal": lambda: sdpa(q, k, k, is_causal=True),
    }


def _outcome(lib, backends, fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            with (TA if lib is torch else EA).sdpa_kernel(backends):
                out = fn()
            res = ("ok", out.detach().numpy() if lib is torch else out.numpy())
        except RuntimeError as e:
            res = ("error", str(e))
    msgs = [str(x.message).split(" (Triggered internally")[0] for x in w if x.category is UserWarning]
    return res, msgs


@pytest.mark.parametrize("names", [["FLASH_ATTENTION"], ["MATH"], ["FLASH_ATTENTION", "MATH"],
                                   ["EFFICIENT_ATTENTION"], ["CUDNN_ATTENTION", "OVERRIDEABLE"], []])
def test_sdpa_outcome_under_each_backend_choice_like_torch_cpu(names):
    tc, ec = _cases(torch), _cases(ember)
    for case in tc:
        (rt, wt) = _outcome(torch, [getattr(TA.SDPBackend, n) for n in names], tc[case])
        (re_, we) = _outcome(ember, [getattr(EA.SDPBackend, n) for n in names], ec[case])
        assert re_[0] == rt[0], (case, re_, rt)
        if rt[0] == "ok" and case == "dropout":      # dropout masks come from different generators
            assert re_[1].shape == rt[1].shape
        elif rt[0] == "ok":
            np.testing.assert_allclose(re_[1], rt[1], rtol=1e-5, atol=1e-6, err_msg=case)
        else:
            assert re_[1] == rt[1], case
            assert we == wt, case


def test_causal_biases_like_torch():
    rng = np.random.default_rng(0)
    for L, S in [(3, 5), (5, 5), (4, 2)]:
        q = rng.standard_normal((2, 2, L, 8)).astype(np.float32)
        kv = rng.standard_normal((2, 2, S, 8)).astype(np.float32)
        for make in ("causal_upper_left", "causal_lower_right"):
            with warnings.catch_warnings(record=True) as wt:
                warnings.simplefilter("always")
                bt = getattr(TB, make)(L, S)
            with warnings.catch_warnings(record=True) as we:
                warnings.simplefilter("always")
                be = getattr(EB, make)(L, S)
            assert [str(x.message) for x in we] == [str(x.message) for x in wt]
            assert (int(be.variant), be.seq_len_q, be.seq_len_kv) == (int(bt.variant), bt.seq_len_q, bt.seq_len_kv)
            np.testing.assert_array_equal(be._materialize().numpy(), bt._materialize().numpy())
            assert repr(be) == repr(bt)
            want = TF.scaled_dot_product_attention(torch.from_numpy(q), torch.from_numpy(kv), torch.from_numpy(kv),
                                                   attn_mask=bt)
            got = EF.scaled_dot_product_attention(ember.tensor(q), ember.tensor(kv), ember.tensor(kv), attn_mask=be)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"{make} {L} {S}")
    assert [(m.name, int(m)) for m in EB.CausalVariant] == [(m.name, int(m)) for m in TB.CausalVariant]
    with pytest.raises(AssertionError, match="causal_lower_right only supports 2D tensors"):
        EB.causal_lower_right(2, 3, 4)
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        EF.scaled_dot_product_attention(ember.ones(1, 1, 2, 4), ember.ones(1, 1, 3, 4), ember.ones(1, 1, 3, 4),
                                        attn_mask=EB.causal_upper_left(2, 3), is_causal=True)


def test_flash_attention_impl_registry():
    assert EA.list_flash_attention_impls() == [] and EA.current_flash_attention_impl() is None
    removed = []

    class Handle:
        def remove(self):
            removed.append(True)

    EA.register_flash_attention_impl("Mine", register_fn=Handle)
    try:
        EA.activate_flash_attention_impl("Mine")
        assert EA.current_flash_attention_impl() == "Mine" and EA.list_flash_attention_impls() == ["Mine"]
        EA.restore_flash_attention_impl()
        assert removed == [True] and EA.current_flash_attention_impl() is None
        with pytest.raises(ValueError, match=r"Unknown flash attention impl 'FA9'. Available implementations: "
                                             r"\['Mine'\]"):
            EA.activate_flash_attention_impl("FA9")
    finally:
        EA._registry._FLASH_ATTENTION_IMPLS.pop("Mine", None)


def test_stateless_functional_call_is_the_deprecated_alias():
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    x = np.ones((1, 2), np.float32)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        yt = TS.functional_call(torch.nn.Linear(2, 3), {"weight": torch.from_numpy(w)}, torch.from_numpy(x))
    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        m = ember.nn.Linear(2, 3)
        ye = ES.functional_call(m, {"weight": ember.tensor(w), "bias": ember.zeros(3)}, (ember.tensor(x),))
    assert [(x.category, str(x.message)) for x in we] == [(x.category, str(x.message)) for x in wt]
    assert we[0].category is FutureWarning and we[0].filename == __file__
    np.testing.assert_allclose(ye.detach().numpy(), x @ w.T)
    assert ES.__all__ == TS.__all__
    with pytest.raises(RuntimeError, match="can't be used with nn.DataParallel"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ES.functional_call(ember.nn.DataParallel(m), {}, (ember.tensor(x),))


def test_modules_import_under_the_compat_hook_and_lazily():
    code = textwrap.dedent("""
        import sys, ember
        lazy = [m for m in ("ember.nn.attention", "ember.nn.utils.prune", "ember.nn.utils.stateless")
                if m in sys.modules]
        import ember.compat
        ember.compat.install()
        import torch
        import torch.nn.utils.prune as prune
        from torch.nn.attention import sdpa_kernel, SDPBackend
        from torch.nn.attention.bias import causal_lower_right
        m = torch.nn.Linear(4, 3)
        prune.l1_unstructured(m, "weight", amount=0.5)
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            torch.nn.functional.scaled_dot_product_attention(*[torch.ones(1, 1, 2, 4)] * 3)
        print(lazy, prune.__name__, torch.nn.utils.stateless.__name__, torch.nn.attention.__name__,
              sorted(m.state_dict()), int((m.weight == 0).sum()))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[]", "ember.nn.utils.prune", "ember.nn.utils.stateless", "ember.nn.attention",
                                "['bias',", "'weight_mask',", "'weight_orig']", "6"]
