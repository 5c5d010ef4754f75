"""Lets JupyterLab started in the repository root (``make lab``) find the exercises course.

The course itself is configured in exercises/nbgrader_config.py; its paths are taken from
that file's own folder, so the formgrader and the Nbgrader menu work from here too.
"""

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
load_subconfig("exercises/nbgrader_config.py")  # noqa: F821
