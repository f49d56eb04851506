"""(placeholder: being written)"""
from ..tensor import Tensor


class Parameter(Tensor):
    pass


class Buffer(Tensor):
    pass
