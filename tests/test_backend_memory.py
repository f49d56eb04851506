"""ember.backend.memory: glibc's malloc keeps freed step temporaries (mmap/trim thresholds raised at import),
unless EMBER_MALLOC_TUNING=0 or the user set glibc's own MALLOC_* variables."""
import os
import subprocess
import sys

import pytest

CODE = "import ember.backend.memory as m; print(m.tuned)"


def _tuned(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "EMBER_MALLOC_TUNING"}
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env={**base, **env})
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_tuned_at_import_and_switched_off_by_the_environment():
    import platform
    want = "True" if platform.libc_ver()[0] == "glibc" else "False"
    assert _tuned() == want
    assert _tuned(EMBER_MALLOC_TUNING="0") == "False"
    assert _tuned(MALLOC_ARENA_MAX="2") == "False"          # the user tunes glibc: leave it alone
