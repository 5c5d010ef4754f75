"""Collecting submissions from the hub's exchange without following a learner's links or names.

nbgrader's ``collect`` copies each submission folder out of the exchange as the trainer,
following symbolic links: a learner who plants a link to the answer key or to the gradebook
in their folder gets a plain copy of it into their submission, which their kernel can then
read while it is graded. The folder stays the learner's to change while it is collected, so
checking it first and copying it after is not enough (a link swapped in between is followed).
Here each folder is copied once, at the start, without following anything: every directory
and file is opened relative to its parent with ``O_NOFOLLOW``, and a file must be a regular
file owned by the learner (not a named pipe, which would stop the copy and the collection of
everyone after them, nor a hard link to someone else's file). A folder holding anything else
is not collected, and the trainer is told why; nbgrader then copies that trainer-owned copy,
with its own rules (ignored files, size limits). ``nbgrader submit`` never puts a link or a
pipe in the exchange, so such a folder was made by hand.

nbgrader also takes a folder's name for who handed it in and only warns when another user owns
the folder: a learner could hand in work under a classmate's name, replacing theirs. Where each
learner is a user of the machine (``ExchangeCollect.check_owner``, nbgrader's default), such a
folder is not collected either. deploy/nbgrader_config.py makes this nbgrader's collect.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field

from nbgrader.exchange.default.collect import ExchangeCollect

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a pipe opens at once, and is refused


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect`` that copies each submission folder once without following
    anything, and skips one holding a symbolic link, anything but folders and regular files of
    its learner, or more than ``CourseDirectory.max_dir_size``, or owned by another user than the
    learner it names (an earlier submission of that learner, already collected, stays as it is)."""

    def init_src(self) -> None:
        super().init_src()
        submitted = self.coursedir.format_path(self.coursedir.submitted_directory, ".", ".")
        os.makedirs(submitted, exist_ok=True)
        self._staging = tempfile.mkdtemp(prefix=".kam-collect-", dir=submitted)  # beside where copies go
        self._staged: dict[str, str] = {}
        kept = []
        for number, record in enumerate(self.src_records):
            src = os.path.join(self.inbound_path, record["filename"])
            owner = _owner(src)
            if self.check_owner and owner is not None and owner != record["username"]:
                self.log.error(
                    "未收取 %s：文件夹属于 %s，却自称是 %s 的提交，可能是冒名提交。",
                    record["filename"],
                    owner,
                    record["username"],
                )
                continue
            staged = os.path.join(self._staging, str(number))
            problem = copy_without_following(src, staged, 1000 * self.coursedir.max_dir_size).problem(
                record["filename"]
            )
            if problem:
                self.log.error("%s", problem)
                shutil.rmtree(staged, ignore_errors=True)
                continue
            self._staged[src] = staged
            kept.append(record)
        self.src_records = kept

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """nbgrader's copy, from the copy made at the start instead of the learner's folder."""
        super().do_copy(self._staged[src], dest, log)

    def copy_files(self) -> None:
        try:
            super().copy_files()
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)


@dataclass
class Copied:
    """What :func:`copy_without_following` found that a submission must not hold (paths relative to it)."""

    links: list[str] = field(default_factory=list)
    odd: list[str] = field(default_factory=list)  # neither folder nor regular file, unreadable, or not the learner's
    too_large: bool = False

    def problem(self, name: str) -> str | None:
        """Why the folder ``name`` is not collected (Chinese), or None."""
        if self.links:
            return (
                f"未收取 {name}：提交中有符号链接（{'、'.join(self.links)}），不是用“提交”按钮交来的，"
                "可能想借讲师的权限读取别的文件。"
            )
        if self.odd:
            return (
                f"未收取 {name}：提交中的 {'、'.join(self.odd)} 不是学员自己的普通文件或文件夹"
                "（例如命名管道、别人文件的硬链接），或讲师无法读取；请学员用“提交”按钮重新提交。"
            )
        if self.too_large:
            return f"未收取 {name}：提交文件夹超过 nbgrader 的大小上限（CourseDirectory.max_dir_size）；请学员删去大文件后重新提交。"
        return None


def copy_without_following(src: str, dest: str, budget: int) -> Copied:
    """Copy the folder ``src`` to ``dest`` (which must not exist) without following a link at any
    level: links, entries that are not folders or regular files, and files owned by another user
    than ``src`` are not copied but reported; the copy stops once it holds more than ``budget`` bytes."""
    found, copied = Copied(), [0]
    try:
        top = os.open(src, _DIR_FLAGS)
    except OSError:  # the folder itself swapped for a link, or unreadable
        (found.links if os.path.islink(src) else found.odd).append(os.path.basename(src))
        return found
    try:
        _copy_folder(top, "", dest, os.fstat(top).st_uid, budget, found, copied)
    except _TooLarge:
        found.too_large = True
    finally:
        os.close(top)
    return found


class _TooLarge(Exception):
    pass


def _copy_folder(folder: int, rel: str, dest: str, owner: int, budget: int, found: Copied, copied: list[int]) -> None:
    os.mkdir(dest, 0o700)
    for entry in os.scandir(folder):
        name = os.path.join(rel, entry.name)
        try:
            mode = os.stat(entry.name, dir_fd=folder, follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                found.links.append(name)
            elif stat.S_ISDIR(mode):
                inner = os.open(entry.name, _DIR_FLAGS, dir_fd=folder)
                try:
                    _copy_folder(inner, name, os.path.join(dest, entry.name), owner, budget, found, copied)
                finally:
                    os.close(inner)
            elif not _copy_file(folder, entry.name, os.path.join(dest, entry.name), owner, budget, copied):
                found.odd.append(name)
        except OSError:  # gone, swapped or unreadable while we looked: not a submission to copy now
            found.odd.append(name)


def _copy_file(folder: int, name: str, dest: str, owner: int, budget: int, copied: list[int]) -> bool:
    """Copy one regular file of ``owner``; False (nothing copied) for anything else."""
    source = os.open(name, _FILE_FLAGS, dir_fd=folder)
    try:
        status = os.fstat(source)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != owner:
            return False
        os.set_blocking(source, True)
        with open(dest, "wb") as out:
            while chunk := os.read(source, 1 << 20):
                copied[0] += len(chunk)
                if copied[0] > budget:
                    raise _TooLarge
                out.write(chunk)
        os.utime(dest, ns=(status.st_atime_ns, status.st_mtime_ns))
        return True
    finally:
        os.close(source)


def _owner(path: str) -> str | None:
    """The user name owning ``path``; None where that cannot be told (no such user, no pwd module)."""
    try:
        import pwd

        return pwd.getpwuid(os.lstat(path).st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return None
