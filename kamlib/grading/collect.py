"""Collecting submissions from the hub's exchange without following a learner's links.

nbgrader's ``collect`` copies each submission folder out of the exchange as the trainer,
following symbolic links: a learner who plants a link to the answer key or to the gradebook
in their folder gets a plain copy of it into their submission, which their kernel can then
read while it is graded. ``nbgrader submit`` never puts a link in the exchange (it copies
what the links point to), so a folder holding one was made by hand: it is not collected,
and the trainer is told why. deploy/nbgrader_config.py makes this nbgrader's collect.
"""

from __future__ import annotations

import os

from nbgrader.exchange.default.collect import ExchangeCollect


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's ``ExchangeCollect`` that skips a submission folder holding a symbolic link
    (an earlier submission of that learner, already collected, stays as it is)."""

    def init_src(self) -> None:
        super().init_src()
        kept = []
        for record in self.src_records:
            src = os.path.join(self.inbound_path, record["filename"])
            links = _links(src)
            if links:
                self.log.error(
                    "未收取 %s：提交中有符号链接（%s），不是用“提交”按钮交来的，可能想借讲师的权限读取别的文件。",
                    record["filename"],
                    "、".join(links),
                )
            else:
                kept.append(record)
        self.src_records = kept


def _links(folder: str) -> list[str]:
    """The symbolic links in ``folder`` (the folder itself included), relative to it."""
    if os.path.islink(folder):
        return [os.path.basename(folder)]
    return [
        os.path.relpath(os.path.join(parent, name), folder)
        for parent, dirs, files in os.walk(folder)
        for name in dirs + files
        if os.path.islink(os.path.join(parent, name))
    ]
