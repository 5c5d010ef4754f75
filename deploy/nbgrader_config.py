"""Global nbgrader configuration of a JupyterHub for the 重点客户管理 course (course id kam_course).

Install it where every user's nbgrader finds it, e.g. ``/etc/jupyter/nbgrader_config.py``
(or ``<sys.prefix>/etc/jupyter/``); deploy/README.md says where on TLJH and on Kubernetes.
The trainer's course root keeps its own exercises/nbgrader_config.py (gradebook, grading
limits, feedback without hidden tests); this file holds only what trainer and trainees share.
"""

import os

from kamlib.grading.run_settings import apply as apply_run_settings

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

COURSE_ID = "kam_course"

# One course on this hub: trainees never have to name it.
c.CourseDirectory.course_id = COURSE_ID

# The exchange: a folder every user can write to (``chmod 1777``; nbgrader sets the modes of
# what it creates inside). On one machine a local folder; on Kubernetes a shared
# ReadWriteMany volume mounted at the same path in every user's pod.
c.Exchange.root = os.environ.get("KAM_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
# One course only: no per-course sub-folder in trainees' home ("ex01_concepts/", not
# "kam_course/ex01_concepts/"). Set it to True if the hub ever serves several courses.
c.Exchange.path_includes_course = False
# Collecting: a submission folder holding a symbolic link (planted by hand in the exchange, to
# have the trainer copy the answer key or the gradebook into it) is not collected.
c.ExchangeFactory.collect = "kamlib.grading.collect.SafeExchangeCollect"
# ...nor one owned by another user than the learner it names (handed in under a classmate's name).
# On Kubernetes every pod runs as the same user (jovyan), so ownership says nothing there.
c.ExchangeCollect.check_owner = "KUBERNETES_SERVICE_HOST" not in os.environ

# A trainee's Validate (the notebook toolbar's and the Assignments list's) checks and says what
# it does on Binder and with `make lab`: every question answered, in Chinese, 30 s per cell.
apply_run_settings(c)

# Who may fetch and submit: the members of the JupyterHub groups nbgrader-kam_course
# (trainees) and formgrade-kam_course (trainer), asked from the hub's REST API. This needs
# the JUPYTERHUB_* variables the hub gives every single-user server (its terminals and the
# Assignments tab); outside a hub (e.g. a trainer's ssh session) nbgrader's default applies:
# the exchange folder's permissions alone.
if os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_USER"):
    from nbgrader.auth import JupyterHubAuthPlugin

    c.Authenticator.plugin_class = JupyterHubAuthPlugin

# nbgrader's advice for hubs: a log file makes exchange problems traceable. Per user, in
# their home, so nobody needs write access to a shared log.
c.NbGrader.logfile = os.path.join(os.path.expanduser("~"), ".nbgrader.log")
