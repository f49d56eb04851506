"""``ember.backends.cpu``: the CPU capability string PyTorch reports; ember's kernels are NumPy's."""


def get_cpu_capability() -> str:
    return "DEFAULT"
