"""docs/distributed.md's training script (its ```py-mpi block) runs in 2 MPI processes as written: rank 0 alone
prints and saves one checkpoint."""
import pathlib
import re

from ._mpi import ROOT, needs_mpi, run_mpi


def mpi_blocks():
    text = (pathlib.Path(ROOT) / "docs" / "distributed.md").read_text(encoding="utf-8")
    return re.findall(r"^```py-mpi\n(.*?)^```", text, flags=re.M | re.S)


def test_the_page_has_a_script():
    assert len(mpi_blocks()) == 1


@needs_mpi
def test_doc_script_runs_in_two_processes(tmp_path):
    p = run_mpi(tmp_path, mpi_blocks()[0])
    lines = p.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["epoch 0", "epoch 1"], p.stdout     # rank 0 only
    assert (tmp_path / "model.pt").exists()
