"""Where datasets live: one data root, and checksummed downloads into it.

``data_root()`` is ``$EMBER_DATA`` when set, else the platform cache: ``$XDG_CACHE_HOME/ember`` (normally
``~/.cache/ember``) on Linux and the BSDs, ``~/Library/Caches/ember`` on macOS, ``%LOCALAPPDATA%\\ember`` on Windows.
Every dataset class takes ``root=None`` (meaning the data root) and ``download=False``, as torchvision's do.

A download goes to a temporary file beside its target, is checked against the published checksum and only then
moved into place, trying each mirror in turn; a failed or corrupt download never leaves a file that looks
complete.  Offline, ``fetch`` raises ``DatasetNotFoundError`` with one message that names every file needed,
its checksum and the folder to put it in, so the files can be copied there by hand.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import sys
import tempfile
import urllib.request

__all__ = ["data_root", "DatasetNotFoundError", "file_digest", "fetch", "missing_message"]


class DatasetNotFoundError(RuntimeError):
    """A dataset's files are not in the data root and could not be downloaded (its message says which files,
    their checksums and where to put them)."""


def data_root() -> str:
    """The folder datasets are read from and downloaded to (``$EMBER_DATA``, else the user's cache folder)."""
    env = os.environ.get("EMBER_DATA")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    if sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    elif os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~/AppData/Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "ember")


def resolve_root(root) -> str:
    """``root`` as a path, or the data root when ``root`` is None."""
    return data_root() if root is None else os.path.expanduser(os.fspath(root))


def file_digest(path: str, algorithm: str = "md5") -> str:
    """The hex digest of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _checksum_kind(checksum: str) -> str:
    return "sha256" if len(checksum) == 64 else "md5"


def missing_message(dataset: str, folder: str, files: list[tuple[str, str]], mirrors: list[str],
                    errors: list[str] | None = None) -> str:
    """One message naming what ``dataset`` needs: each file with its checksum, the folder, and the mirrors."""
    listed = ", ".join(f"{name} ({_checksum_kind(c)} {c})" for name, c in files)
    where = f"the data root is $EMBER_DATA, else {data_root()}"
    if errors:
        return (f"{dataset}: could not download {listed} into {folder} ({errors[-1]}); copy the files there by "
                f"hand from {' or '.join(mirrors)} ({where})")
    return (f"{dataset}: dataset files missing from {folder}: {listed}. Pass download=True ('download = true' in a "
            f"config) to fetch them from {' or '.join(mirrors)}, or copy them there by hand ({where})")


def fetch(dataset: str, folder: str, files: list[tuple[str, str]], mirrors: list[str], timeout: float = 60,
          local: list[str] = ()) -> None:
    """Download each ``(name, checksum)`` in ``files`` that ``folder`` lacks (or holds with a wrong checksum),
    trying ``mirrors`` (URL prefixes) in order; raises ``DatasetNotFoundError`` if any file cannot be had.

    ``local`` names folders (normally under the data root) to copy a file from before going to the network: a
    script that asks for ``MNIST('../data', download=True)`` gets the verified copy already in ``$EMBER_DATA``
    (checked against the same checksum, so a wrong local file is skipped, never copied)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise DatasetNotFoundError(missing_message(dataset, folder, files, mirrors, [f"cannot create {folder}: {e}"])
                                   ) from None
    errors: list[str] = []
    missing = []
    for name, checksum in files:
        target = os.path.join(folder, name)
        kind = _checksum_kind(checksum)
        if os.path.isfile(target) and file_digest(target, kind) == checksum:
            continue
        here = [pathlib.Path(d).absolute().as_uri() + "/" for d in local
                if os.path.isfile(os.path.join(d, name)) and not _same_file(os.path.join(d, name), target)]
        for mirror in here + list(mirrors):
            url = mirror + name
            try:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + name, suffix=".part")
            except OSError as e:
                errors.append(f"cannot write in {folder}: {e}")
                break
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                    shutil.copyfileobj(resp, out)
                got = file_digest(tmp, kind)
                if got != checksum:
                    errors.append(f"{url}: {kind} {got} does not match the published {checksum}")
                    continue
                os.chmod(tmp, 0o666 & ~_umask())    # mkstemp made it private; a download is an ordinary file
                os.replace(tmp, target)
                break
            except (OSError, ValueError) as e:      # URLError is an OSError; ValueError: a malformed URL
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        else:
            missing.append((name, checksum))
            continue
        if not os.path.isfile(target):
            missing.append((name, checksum))
    if missing:
        raise DatasetNotFoundError(missing_message(dataset, folder, missing, mirrors, errors))
