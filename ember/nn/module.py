"""(placeholder: being written)"""


class Module:
    pass
