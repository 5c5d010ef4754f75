"""JupyterHub for one cohort of the 重点客户管理 course: one trainer, many trainees, nbgrader's exchange.

Start it as root (LocalProcessSpawner runs each user's server as that Unix user)::

    jupyterhub -f deploy/jupyterhub_config.py

Who is who comes from the environment (deploy/README.md shows the systemd / TLJH / Helm
equivalents)::

    KAM_TRAINER=trainer                          # the trainer's login (Unix user)
    KAM_TRAINEES_FILE=/etc/jupyterhub/kam_trainees.txt   # one trainee login per line (# comments)
    KAM_TRAINEES=zhang3,li4                      # ... or inline, comma-separated (added to the file's)
    KAM_HUB_STATE=/srv/jupyterhub                # sqlite database and cookie secret
    KAM_HUB_URL=http://127.0.0.1:8000            # where the proxy listens (put TLS in front of it)

nbgrader's side (exchange root, course id) is deploy/nbgrader_config.py, installed as
/etc/jupyter/nbgrader_config.py. Layout, following nbgrader's "Using nbgrader with
JupyterHub" for one course and one grader:

- group ``formgrade-kam_course``: the trainer. The trainer's own server has the course root
  (a copy of exercises/ in ``~/kam_course``) and opens the formgrader in its own tab at
  ``/user/<trainer>/formgrader``; releases, collects and grades there or in a terminal.
- group ``nbgrader-kam_course``: the trainees (and the trainer). nbgrader's
  JupyterHubAuthPlugin lets only members fetch and submit kam_course assignments.
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

COURSE_ID = "kam_course"
TRAINER_GROUP = f"formgrade-{COURSE_ID}"  # nbgrader: formgrader access groups start with "formgrade-"
TRAINEE_GROUP = f"nbgrader-{COURSE_ID}"  # nbgrader: course member groups start with "nbgrader-"


def _roster() -> tuple[str, list[str]]:
    trainer = os.environ.get("KAM_TRAINER", "trainer").strip()
    names: list[str] = []
    path = os.environ.get("KAM_TRAINEES_FILE", "/etc/jupyterhub/kam_trainees.txt")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            names += [line.split("#", 1)[0].strip() for line in fh]
    names += os.environ.get("KAM_TRAINEES", "").split(",")
    trainees = sorted({n for n in names if n and n != trainer})
    return trainer, trainees


TRAINER, TRAINEES = _roster()

# ---------------------------------------------------------------- network and state
c.JupyterHub.bind_url = os.environ.get("KAM_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"  # the hub's own API: only the proxy and local servers talk to it
_state = os.environ.get("KAM_HUB_STATE", "/srv/jupyterhub")
c.JupyterHub.db_url = os.environ.get("KAM_HUB_DB_URL", "sqlite:///" + os.path.join(_state, "jupyterhub.sqlite"))
c.JupyterHub.cookie_secret_file = os.path.join(_state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(_state, "jupyterhub.pid")

# ---------------------------------------------------------------- who may log in
# Unix accounts and their passwords (PAM, JupyterHub's default). Only the roster may log in.
c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"
c.Authenticator.allowed_users = {TRAINER, *TRAINEES}
c.Authenticator.admin_users = set()  # the trainer gets what they need from the role below, not full admin

c.JupyterHub.load_groups = {
    TRAINER_GROUP: {"users": [TRAINER]},
    TRAINEE_GROUP: {"users": [TRAINER, *TRAINEES]},
}
c.JupyterHub.load_roles = [
    {
        # The trainer: see the trainees and their servers (admin page), start/stop them,
        # and manage who is in the course group (nbgrader db student add/remove does that
        # through JupyterHubAuthPlugin).
        "name": "kam-trainer",
        "description": "培训讲师：查看学员和学员服务器，管理课程组成员",
        "groups": [TRAINER_GROUP],
        "scopes": [
            "admin-ui",
            "list:users",
            "read:users",
            "admin:servers",
            "list:groups",
            f"read:groups!group={TRAINEE_GROUP}",
            f"groups!group={TRAINEE_GROUP}",
        ],
    },
    {
        # Trainees need nothing beyond their own server and user model (the default "user"
        # role); the role is named so the cohort can be found and extended from the API.
        "name": "kam-trainee",
        "description": "学员：只用自己的服务器",
        "groups": [TRAINEE_GROUP],
        "scopes": ["self"],
    },
    {
        # A single-user server's token acts with its owner's permissions, so nbgrader's
        # JupyterHubAuthPlugin (inside the server, its terminals and the Assignments tab) can
        # read the owner's groups — as in nbgrader's JupyterHub demos.
        "name": "server",
        "scopes": ["inherit"],
    },
]

# ---------------------------------------------------------------- single-user servers
# One process per user, as that Unix user, from the same environment as the hub (it has
# JupyterLab, nbgrader and its extensions, and kamlib).
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
# Trainees get a learner's JupyterLab: the settings in deploy/learner/ (beside this file; it must
# be readable by every trainee) turn off nbgrader's instructor tools — Formgrader, which would
# open the trainer's answer key, Create Assignment, Course List — and JupyterLab's news pop-up.
# The trainer's server keeps them. Binder's image uses the same settings (postBuild step 6).
LEARNER_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "learner")


def learner_jupyterlab(spawner) -> None:
    """Put deploy/learner/ first on a trainee's JUPYTER_CONFIG_PATH (not the trainer's)."""
    if spawner.user.name == TRAINER:
        return
    env = dict(spawner.environment)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (LEARNER_CONFIG, env.get("JUPYTER_CONFIG_PATH")) if p)
    spawner.environment = env


c.Spawner.pre_spawn_hook = learner_jupyterlab
# Idle servers are not culled here: trainees keep JupyterLab open for a whole training day.
# Add jupyterhub-idle-culler as a service if the machine runs short of memory.
