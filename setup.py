"""ember's optional compiled kernels (ember/csrc: kernels.c and its Python module, module.c), built where a C
compiler is present.

Everything else about the package is in pyproject.toml.  The extension is ``optional``: without a compiler,
``pip install`` still succeeds (with a warning) and ember runs every op in NumPy.  The flags let the
compiler vectorize the loops without changing any value (see the C file's header); ``-ffp-contract=off``
keeps ``a * b + c`` two roundings, as NumPy computes it.
"""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

_UNIX_FLAGS = ["-O3", "-std=c99", "-fno-trapping-math", "-fno-math-errno", "-ffp-contract=off",
               "-fvisibility=hidden"]


class BuildKernels(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = _UNIX_FLAGS
        super().build_extensions()


setup(
    ext_modules=[Extension("ember._kernels", sources=["ember/csrc/kernels.c", "ember/csrc/module.c"],
                           depends=["ember/csrc/kernels.h"], optional=True)],
    cmdclass={"build_ext": BuildKernels},
)
