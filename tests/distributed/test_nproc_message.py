"""``ember train --nproc``: rank 0's closing "ember: ..." line reaches the user even when the MPI launcher's
output forwarding is torn down by MPI_Abort before passing it on (seen under load: the run then ended "without a
message").  Rank 0 also writes the line to a file the supervising process reads (``_nproc.MSG_FILE_ENV``)."""
import io
import os
import sys
import types

from ember.cli import _nproc as N


def test_rank_zero_stream_keeps_its_ember_lines():
    out = io.StringIO()
    s = N._Said(out)
    s.write("Epoch 1/2 ...\nember: error: training diverged at epoch 2")
    s.write(", batch 3\nmore text\n")
    s.flush()
    assert out.getvalue().startswith("Epoch 1/2 ...\nember: error:")
    assert s.lines == ["ember: error: training diverged at epoch 2, batch 3"]
    s.write("\r 10% |##  |" * 1000 + "\rember: interrupted\n")   # a progress bar's redraws, then a line
    assert s._part == "" and s.lines[-1] == "ember: interrupted"


def test_the_lines_are_left_on_disk(tmp_path, monkeypatch):
    path = tmp_path / "msg.txt"
    monkeypatch.setenv(N.MSG_FILE_ENV, str(path))
    s = N._Said(io.StringIO())
    s.write("ember: error: boom\n")
    N._leave_message(s.lines)
    assert path.read_text() == "ember: error: boom\n"
    N._leave_message([])                      # nothing kept: the file is left as it is
    assert path.read_text() == "ember: error: boom\n"


def _supervise(tmp_path, said, capsys):
    """The supervisor over a stand-in launcher that exits with status 3 and prints nothing."""
    run_file, msg_file = tmp_path / "run.txt", tmp_path / "msg.txt"
    run_file.write_text("")
    msg_file.write_text(said)
    env = dict(os.environ, **{N.RUN_FILE_ENV: str(run_file), N.MSG_FILE_ENV: str(msg_file)})
    cmd = [sys.executable, "-c", "import sys; sys.exit(3)"]
    code = N._supervise(cmd, env, types.SimpleNamespace(resume=None))
    return code, capsys.readouterr().err


def test_supervisor_prints_the_line_the_launcher_lost(tmp_path, capsys):
    code, err = _supervise(tmp_path, "ember: error: training diverged at epoch 2, batch 3\n", capsys)
    assert code == 3
    assert err.splitlines() == ["ember: error: training diverged at epoch 2, batch 3"]


def test_supervisor_without_a_line_says_so(tmp_path, capsys):
    code, err = _supervise(tmp_path, "", capsys)
    assert code == 3
    assert err.startswith("ember: error: a process of the run stopped without a message (MPI launcher exit status 3")
