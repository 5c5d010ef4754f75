"""Settings every test run shares, including the notebook kernels nbval starts."""

import os

# Kernels inherit this process's environment: a missing Chinese glyph in a chart is an
# error there too (see kamlib.plots.use_chinese_font), and charts render inline.
os.environ["KAMLIB_STRICT_GLYPHS"] = "1"
os.environ.pop("MPLBACKEND", None)
