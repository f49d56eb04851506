"""ember.hub (torch.hub's checkpoint half) against torch.hub 2.13: the cache folder, load_state_dict_from_url on
file:// URLs (no network), the hash-prefix check, model_zoo.load_url, and hubconf loading refused."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

import ember
import ember.hub

torch = pytest.importorskip("torch")
import torch.hub  # noqa: E402
import torch.utils.model_zoo  # noqa: E402


def test_get_dir_follows_torch_home_and_set_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert ember.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "th" / "hub")
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ember.hub.get_dir() == torch.hub.get_dir()
    ember.hub.set_dir(tmp_path / "mine")
    assert ember.hub.get_dir() == str(tmp_path / "mine")
    assert ember.hub is ember.hub and ember.utils.model_zoo.load_url is ember.hub.load_state_dict_from_url


@pytest.mark.parametrize("legacy", [False, True])
def test_load_state_dict_from_url_caches_and_loads_as_torch(tmp_path, legacy):
    src = torch.nn.Conv2d(2, 3, 3)
    raw = tmp_path / "raw.pth"
    torch.save(src.state_dict(), raw, _use_new_zipfile_serialization=not legacy)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    served = tmp_path / "srv" / f"conv-{digest[:10]}.pth"
    served.parent.mkdir()
    served.write_bytes(raw.read_bytes())
    got = {}
    for lib in (torch, ember):
        d = tmp_path / f"cache_{lib.__name__}"
        sd = lib.hub.load_state_dict_from_url(served.as_uri(), model_dir=str(d), check_hash=True, progress=False)
        assert (d / served.name).read_bytes() == served.read_bytes()
        got[lib.__name__] = {k: v.detach().numpy() for k, v in sd.items()}
    assert list(got["ember"]) == list(got["torch"])
    for k in got["torch"]:
        np.testing.assert_array_equal(got["ember"][k], got["torch"][k])
    # a second call reads the cached file (the source is gone)
    served.unlink()
    sd = ember.hub.load_state_dict_from_url(served.as_uri(), model_dir=str(tmp_path / "cache_ember"))
    assert sorted(sd) == ["bias", "weight"]


def test_hash_mismatch_leaves_nothing_and_says_so(tmp_path):
    raw = tmp_path / "srv" / "lin-0123abcd.pth"
    raw.parent.mkdir()
    torch.save(torch.nn.Linear(2, 2).state_dict(), raw)
    msgs = []
    for lib in (torch, ember):
        d = tmp_path / f"c_{lib.__name__}"
        with pytest.raises(RuntimeError) as e:
            lib.hub.load_state_dict_from_url(raw.as_uri(), model_dir=str(d), check_hash=True, progress=False)
        msgs.append(str(e.value))
        assert not any(d.iterdir())
    assert msgs[0] in msgs[1]          # PyTorch's 'invalid hash value (expected "0123abcd", got "...")'


def test_offline_error_names_url_and_path(tmp_path):
    url = (tmp_path / "missing-00.pth").as_uri()
    with pytest.raises(RuntimeError) as e:
        ember.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "c"), progress=False)
    assert url in str(e.value) and str(tmp_path / "c" / "missing-00.pth") in str(e.value)


def test_hubconf_loading_is_refused():
    for fn in (ember.hub.load, ember.hub.list, ember.hub.help):
        with pytest.raises(NotImplementedError, match="hubconf"):
            fn("pytorch/vision", "resnet18")
