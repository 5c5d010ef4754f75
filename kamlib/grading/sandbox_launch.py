"""Inside the grading sandbox: copy the submission, set the limits, then become the kernel.

Run by :mod:`kamlib.grading.sandbox` as ``python -I sandbox_launch.py --copy SRC DEST
--memory BYTES --processes N --file-size BYTES -- KERNEL-COMMAND...``. It imports nothing
of kamlib (and nothing beyond the standard library), so it starts in milliseconds.
The limits are set here, after bubblewrap made the user namespace, so the process count
is that of this sandbox alone. Last, a seccomp filter refuses the kernel keyring's system
calls (``add_key``, ``request_key``, ``keyctl``: bubblewrap leaves the grader's session keyring
reachable, and every sandbox shares the keyring of its host user) and every system call of
another ABI (32-bit, x32), through which those could be made.
"""

import argparse
import ctypes
import os
import platform
import resource
import shutil
import struct
import sys

#: machine -> (its AUDIT_ARCH value, the keyring's system call numbers, whether it has the x32 ABI)
KEYRING_CALLS = {
    "x86_64": (0xC000003E, (248, 249, 250), True),
    "aarch64": (0xC00000B7, (217, 218, 219), False),
}


def keyring_filter(machine: str) -> bytes | None:
    """The classic-BPF seccomp program (struct sock_filter[]) that fails the keyring's system calls
    and every call of a foreign ABI with EPERM and allows the rest; None on an unknown machine."""
    if machine not in KEYRING_CALLS:
        return None
    arch, calls, has_x32 = KEYRING_CALLS[machine]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    checks = [(jge, 0x40000000)] * has_x32 + [(jeq, nr) for nr in calls]  # x32 calls carry bit 30
    body = [(load, 0, 0, 4), (jeq, 0, len(checks) + 2, arch), (load, 0, 0, 0)]  # arch, else deny; nr
    body += [(op, len(checks) - i, 0, k) for i, (op, k) in enumerate(checks)]  # match: jump to deny
    body += [(ret, 0, 0, 0x7FFF0000), (ret, 0, 0, 0x00050000 | 1)]  # allow; deny: errno EPERM
    return b"".join(struct.pack("HBBI", *op) for op in body)


def refuse_keyring_calls() -> None:
    """Install :func:`keyring_filter` on this process (and what it executes); OSError if refused."""
    program = keyring_filter(platform.machine())
    if program is None:
        return
    filters = ctypes.create_string_buffer(program, len(program))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    prog = Program(len(program) // 8, ctypes.cast(filters, ctypes.c_void_p))
    for option, args in ((38, (1, 0, 0, 0)), (22, (2, ctypes.addressof(prog), 0, 0))):  # NO_NEW_PRIVS, SECCOMP
        if libc.prctl(option, *[ctypes.c_ulong(a) for a in args]) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter refused")


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
    refuse_keyring_calls()
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
