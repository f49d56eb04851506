"""The fuzz specs whose ops are not yet on the device path (``test_device_ops`` expects them to fail: strict
xfail, so a spec that starts passing must leave this list).  Empty: every spec runs on "cuda" (on the CuPy
stand-in; see scripts/gpu_check.sh for the real GPU).  An op added to the fuzzer that cannot run on a device yet
goes here by name, with the reason in a comment."""

PENDING: set = set()
