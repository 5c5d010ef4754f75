"""Inside the grading sandbox: copy the submission, set the limits, then become the kernel.

Run by :mod:`kamlib.grading.sandbox` as ``python -I sandbox_launch.py --copy SRC DEST
--memory BYTES --processes N --file-size BYTES -- KERNEL-COMMAND...``. It imports nothing
of kamlib (and nothing beyond the standard library), so it starts in milliseconds.
The limits are set here, after bubblewrap made the user namespace, so the process count
is that of this sandbox alone.
"""

import argparse
import os
import resource
import shutil
import sys


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="sandbox_launch")
    parser.add_argument("--copy", nargs=2, metavar=("SRC", "DEST"), required=True)
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--file-size", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no kernel command")

    source, dest = args.copy
    shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
    os.makedirs(os.environ.get("MPLCONFIGDIR", os.path.join(dest, ".matplotlib")), exist_ok=True)

    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (args.processes, args.processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_size, args.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
