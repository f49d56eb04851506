"""``torch.hub``'s checkpoint half: ``load_state_dict_from_url``, ``download_url_to_file``, ``get_dir`` and
``set_dir``, with PyTorch's cache (``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/
checkpoints``), so a file PyTorch downloaded before is read from there (``ember.load`` reads PyTorch's ``.pth``
files, zip and legacy, through its allow-listed unpickler).  A missing file is downloaded into a temporary file,
checked against the hash prefix in its name when ``check_hash=True`` and only then moved into place; offline,
the error names the URL and the path to copy the file to.

The other half, ``torch.hub.load``/``list``/``help``, runs a GitHub repository's ``hubconf.py``: ember does not
fetch and run code, and these raise ``NotImplementedError`` saying so.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["get_dir", "set_dir", "load_state_dict_from_url", "download_url_to_file", "load", "list", "help"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_hub_dir: str | None = None


def get_dir() -> str:
    """The hub folder: ``set_dir``'s, else ``$TORCH_HOME/hub``, else ``$XDG_CACHE_HOME/torch/hub``, else
    ``~/.cache/torch/hub`` (PyTorch's own, so its cached checkpoints are found)."""
    if _hub_dir is not None:
        return _hub_dir
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    """Use ``d`` as the hub folder from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """Download ``url`` to ``dst`` through a temporary file beside it; with ``hash_prefix`` the file's SHA-256
    must start with it (else nothing is left behind)."""
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(os.path.abspath(dst))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(dst) + ".", suffix=".partial")
        sha = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                out.write(chunk)
                sha.update(chunk)
        digest = sha.hexdigest()
        if hash_prefix is not None and not digest.startswith(hash_prefix):
            raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)            # mkstemp made it private; the cached file is an ordinary one
        shutil.move(tmp, dst)
        tmp = None
    except (OSError, ValueError) as e:          # URLError is an OSError; ValueError: a malformed URL
        raise RuntimeError(f"download_url_to_file: could not download {url} to {dst} ({getattr(e, 'reason', e)}); "
                           f"copy the file there by hand") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None, weights_only: bool = False):
    """The object saved at ``url`` (a state dict), read from ``model_dir`` (default ``get_dir()/checkpoints``)
    and downloaded there first when it is missing, as ``torch.hub.load_state_dict_from_url``."""
    model_dir = os.path.join(get_dir(), "checkpoints") if model_dir is None else os.path.expanduser(model_dir)
    filename = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        try:
            os.makedirs(model_dir, exist_ok=True)
        except OSError as e:
            raise RuntimeError(f"load_state_dict_from_url: cannot create {model_dir} ({e})") from None
        if progress:
            sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        match = HASH_REGEX.search(filename) if check_hash else None
        try:
            download_url_to_file(url, cached, match.group(1) if match else None, progress=progress)
        except RuntimeError as e:
            raise RuntimeError(f"load_state_dict_from_url: {e} (PyTorch's hub cache: $TORCH_HOME/hub/checkpoints, "
                               f"by default ~/.cache/torch/hub/checkpoints)") from None
    from .io import load as _load
    return _load(cached, map_location=map_location, weights_only=weights_only)


def _no_hubconf(what: str):
    def refuse(*args, **kwargs):
        raise NotImplementedError(f"ember.hub.{what}: running a repository's hubconf.py (code fetched from GitHub) "
                                  f"is not supported; build the model in your script and load its weights with "
                                  f"ember.hub.load_state_dict_from_url(url)")
    refuse.__name__ = what
    return refuse


load = _no_hubconf("load")
list = _no_hubconf("list")       # noqa: A001 - PyTorch's name
help = _no_hubconf("help")       # noqa: A001 - PyTorch's name
