"""Stands in for debugpy in a kernel being graded (on its path: :data:`kamlib.grading.sandbox.KERNEL_ENV`).

ipykernel imports debugpy as it starts, for its debugger: a tenth of a second of CPU
per kernel. Nobody debugs a kernel while it is graded, so the import fails here and
ipykernel starts without a debugger.
"""

raise ImportError("a kernel being graded has no debugger")
