"""No ptrace for tenant code (test/security: "ptrace PID 1").

Docker's default seccomp profile allows ptrace on current kernels, and this
kernel has no Yama: with no capability at all, a process may still attach to
any process of its own uid, here tini (PID 1), and stop it (the container
then outlives its runtime until the runner kills it). The runtime adds a
seccomp filter of its own, inherited by everything it runs: ptrace,
process_vm_readv/writev, x32 and foreign-arch syscalls fail with EPERM.
The container already has no_new_privs, which such a filter requires.
"""
import os

# (AUDIT_ARCH, ptrace, process_vm_readv, process_vm_writev)
_ARCHES = {'x86_64': (0xC000003E, 101, 310, 311), 'aarch64': (0xC00000B7, 117, 270, 271)}
_ALLOW = 0x7FFF0000
_EPERM = 0x00050000 | 1


def install():
    """Installs the filter; returns False where it cannot (unknown arch, no seccomp)."""
    spec = _ARCHES.get(os.uname().machine)
    if spec is None:
        return False
    import ctypes

    class Insn(ctypes.Structure):
        _fields_ = [('code', ctypes.c_ushort), ('jt', ctypes.c_ubyte), ('jf', ctypes.c_ubyte), ('k', ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.POINTER(Insn))]

    arch, nr_ptrace, nr_readv, nr_writev = spec
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    insns = [
        (ld, 0, 0, 4),             # 0: A = seccomp_data.arch
        (jeq, 0, 6, arch),         # 1: foreign arch -> 8 (deny)
        (ld, 0, 0, 0),             # 2: A = seccomp_data.nr
        (jge, 4, 0, 0x40000000),   # 3: x32 syscall -> 8
        (jeq, 3, 0, nr_ptrace),    # 4: -> 8
        (jeq, 2, 0, nr_readv),     # 5: -> 8
        (jeq, 1, 0, nr_writev),    # 6: -> 8
        (ret, 0, 0, _ALLOW),       # 7
        (ret, 0, 0, _EPERM),       # 8
    ]
    arr = (Insn * len(insns))(*[Insn(*i) for i in insns])
    prog = Prog(len(insns), ctypes.cast(arr, ctypes.POINTER(Insn)))
    libc = ctypes.CDLL(None, use_errno=True)
    ul = ctypes.c_ulong
    if libc.prctl(38, ul(1), ul(0), ul(0), ul(0)) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    return libc.prctl(22, ul(2), ctypes.byref(prog), ul(0), ul(0)) == 0  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
