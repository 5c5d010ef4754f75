"""Collecting submissions from the hub's exchange without following a learner's links or names.

nbgrader's ``collect`` copies each submission folder out of the exchange as the trainer,
following symbolic links: a learner who plants a link to the answer key or to the gradebook
in their folder gets a plain copy of it into their submission, which their kernel can then
read while it is graded. ``nbgrader submit`` never puts a link in the exchange (it copies
what the links point to), so a folder holding one was made by hand: it is not collected,
and the trainer is told why. nbgrader also takes a folder's name for who handed it in and
only warns when another user owns the folder: a learner could hand in work under a
classmate's name, replacing theirs. Where each learner is a user of the machine
(``ExchangeCollect.check_owner``, nbgrader's default), such a folder is not collected either.
Nor is one holding something that is neither a file nor a folder (a named pipe stops
nbgrader's copy, and with it the collection of everyone after that learner) or that the
trainer cannot read. deploy/nbgrader_config.py makes this nbgrader's collect.
"""

from __future__ import annotations

import os
import stat

from nbgrader.exchange.default.collect import ExchangeCollect


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect`` that skips a submission folder holding a symbolic link or
    anything but files and folders it can read, or owned by another user than the learner it
    names (an earlier submission of that learner, already collected, stays as it is)."""

    def init_src(self) -> None:
        super().init_src()
        kept = []
        for record in self.src_records:
            src = os.path.join(self.inbound_path, record["filename"])
            links, odd = _links_and_odd(src)
            owner = _owner(src)
            if self.check_owner and owner is not None and owner != record["username"]:
                self.log.error(
                    "未收取 %s：文件夹属于 %s，却自称是 %s 的提交，可能是冒名提交。",
                    record["filename"],
                    owner,
                    record["username"],
                )
            elif links:
                self.log.error(
                    "未收取 %s：提交中有符号链接（%s），不是用“提交”按钮交来的，可能想借讲师的权限读取别的文件。",
                    record["filename"],
                    "、".join(links),
                )
            elif odd:
                self.log.error(
                    "未收取 %s：提交中的 %s 不是普通文件或文件夹（例如命名管道），或讲师无法读取；请学员用“提交”按钮重新提交。",
                    record["filename"],
                    "、".join(odd),
                )
            else:
                kept.append(record)
        self.src_records = kept


def _owner(path: str) -> str | None:
    """The user name owning ``path``; None where that cannot be told (no such user, no pwd module)."""
    try:
        import pwd

        return pwd.getpwuid(os.lstat(path).st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return None


def _links_and_odd(folder: str) -> tuple[list[str], list[str]]:
    """The symbolic links in ``folder`` (the folder itself included), and what in it is neither a
    file nor a folder or cannot be read, relative to it."""
    if os.path.islink(folder):
        return [os.path.basename(folder)], []
    links, odd = [], []

    def unreadable(error: OSError) -> None:
        odd.append(os.path.relpath(error.filename, folder))

    for parent, dirs, files in os.walk(folder, onerror=unreadable):
        for name in dirs + files:
            path = os.path.join(parent, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:  # gone or hidden while we looked: not a submission to copy now
                odd.append(os.path.relpath(path, folder))
                continue
            if stat.S_ISLNK(mode):
                links.append(os.path.relpath(path, folder))
            elif not stat.S_ISDIR(mode) and not (stat.S_ISREG(mode) and os.access(path, os.R_OK)):
                odd.append(os.path.relpath(path, folder))
    return links, odd
