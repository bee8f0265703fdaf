"""What a query process may do on the network, enforced by the kernel before it reads a job.

pyoxigraph evaluates SERVICE itself: it opens a TCP connection to whatever address the query
names, and it has no switch to stop that. The policy (endpoint/sparql/policy.py) refuses such
queries early with a clear 403, but a reader of query text can be wrong, so the barrier is here,
below the text, in the process that evaluates it. Two profiles (docs/decisions/0006):

- "offline" (every query of the public endpoint): a seccomp filter (libseccomp, through
  pyseccomp) makes socket() and socketpair() fail with EPERM for every address family but
  AF_UNIX (so no AF_INET/AF_INET6, AF_NETLINK, AF_PACKET...), and denies io_uring (whose
  operations open and connect sockets without those system calls), execve (no helper binary
  that could fetch for us), ptrace, process_vm_* and pidfd_getfd (no borrowing a socket or the
  code of another process). Where Landlock has network rights (ABI >= 4) a ruleset that allows
  no TCP bind or connect is added as a second, independent layer.
- "federation" (queries whose SERVICE endpoints are all allow-listed): Internet sockets, but
  TCP only (no raw or datagram sockets, no SCTP/MPTCP, which Landlock's TCP rules do not see),
  and Landlock allows TCP connect to the allow-listed ports alone, nothing to bind. Landlock
  rules are per port, not per host: the host is checked by the policy on the parse (pyoxigraph's
  HTTP client, oxhttp, honours no forward proxy, so there is no proxy to check it either).
  Host names need DNS: then datagram sockets and port 53 are allowed too (Landlock can restrict
  UDP ports from ABI 10 on; the allow-list of the tests uses IP literals).

"off" installs nothing and says so loudly: it exists to show that the tests of the guard fail
without it (KG_SANDBOX=off), never for production.

Both filters apply to every thread of the process (seccomp TSYNC; the ruleset is installed on the
main thread before the store opens, so the engine's threads and the job thread inherit it), and
are irreversible: nothing a query does can lift them.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from graph.errors import SandboxUnavailable

log = logging.getLogger(__name__)

OFFLINE, FEDERATION, OFF = "offline", "federation", "off"
PROFILES = (OFFLINE, FEDERATION, OFF)

AF_LIMIT = 64  # above every address family Linux defines (AF_MAX is 46 in 6.x)
MSG_FASTOPEN = 0x20000000  # a TCP connect made by sendto()/sendmsg(): no connect() to check
SOCK_TYPE_MASK = 0xF  # socket()'s type argument also carries SOCK_NONBLOCK | SOCK_CLOEXEC
DNS_PORT = 53
# system calls no query process needs, each a way to the network that socket() does not cover
DENIED_CALLS = (
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "execve", "execveat",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
)


def profile_for(sandbox: bool, federation: bool = False) -> str:
    """The profile of a pool: KG_SANDBOX (Settings.sandbox) off turns every pool's off."""
    if not sandbox:
        return OFF
    return FEDERATION if federation else OFFLINE


def allowance(allowlist: tuple[str, ...]) -> tuple[frozenset[int], bool]:
    """The TCP ports of the allow-listed endpoints, and whether any host is a name (DNS)."""
    ports: set[int] = set()
    names = False
    for iri in allowlist:
        parts = urlsplit(iri)
        ports.add(parts.port or (443 if parts.scheme == "https" else 80))
        try:
            ipaddress.ip_address((parts.hostname or "").strip("[]"))
        except ValueError:
            names = True
    return frozenset(ports), names


def install(profile: str, allowed_ports: frozenset[int] = frozenset(),
            resolve_names: bool = False, landlock: bool = True) -> None:
    """Restrict this process for good. Raises SandboxUnavailable when the kernel cannot.

    `landlock=False` installs the seccomp filter alone: for a web worker, which must still
    reach multiprocessing's fork server over an abstract Unix socket, which Landlock's
    ABSTRACT_UNIX_SOCKET scope would refuse."""
    if profile not in PROFILES:
        raise ValueError(f"unknown sandbox profile {profile!r}: one of {', '.join(PROFILES)}")
    if profile == OFF:
        log.warning("KG_SANDBOX=off: this query process can open any network connection "
                    "a query asks for (SERVICE); never run a public endpoint like this")
        return
    ports = allowed_ports if profile == FEDERATION else frozenset()
    if resolve_names and profile == FEDERATION:
        ports = ports | {DNS_PORT}
    if landlock:
        _landlock(profile, ports)
    _seccomp(profile, dgram=resolve_names and profile == FEDERATION)


def _landlock(profile: str, ports: frozenset[int]) -> None:
    """TCP bind denied, TCP connect allowed to `ports` only (UDP too where the ABI has it)."""
    import landlockpy
    from landlockpy import AccessFS, AccessNet, Ruleset, Scope

    abi = landlockpy.abi_version() if landlockpy.supported() else 0
    if abi < 4:
        if profile == FEDERATION:
            raise SandboxUnavailable(
                "the federation pool needs Landlock network rules (Linux >= 6.7, Landlock ABI "
                f">= 4; this kernel has ABI {abi}) to limit SERVICE to the allow-listed ports: "
                "empty KG_SERVICE_ALLOWLIST, or run on a newer kernel")
        log.info("Landlock ABI %s has no network rules: the seccomp filter alone keeps "
                 "query processes offline", abi)
        return
    with Ruleset(handled_fs=AccessFS.NONE, handled_net=AccessNet.BIND_TCP
                 | AccessNet.CONNECT_TCP | AccessNet.BIND_UDP | AccessNet.CONNECT_SEND_UDP,
                 scoped=Scope.ABSTRACT_UNIX_SOCKET) as ruleset:
        for port in sorted(ports):
            ruleset.allow_port(port, AccessNet.CONNECT_TCP | AccessNet.CONNECT_SEND_UDP)
        ruleset.restrict()


def _seccomp(profile: str, dgram: bool) -> None:
    try:
        import pyseccomp as sc

        deny = sc.ERRNO(errno.EPERM)
        rules = sc.SyscallFilter(sc.ALLOW)
        rules.set_attr(sc.Attr.CTL_TSYNC, 1)  # every thread, not only this one
        for call in DENIED_CALLS:
            rules.add_rule(deny, call)
        rules.add_rule(deny, "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
        rules.add_rule(deny, "sendto", sc.Arg(3, sc.MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN))
        rules.add_rule(deny, "sendmsg", sc.Arg(2, sc.MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN))
        rules.add_rule(deny, "sendmmsg", sc.Arg(3, sc.MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN))
        if profile == OFFLINE:
            rules.add_rule(deny, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        else:
            _federation_sockets(sc, rules, deny, dgram)
        rules.load()
    except (OSError, RuntimeError, ImportError) as err:  # no libseccomp, or no seccomp
        raise SandboxUnavailable(
            f"cannot install the query process's seccomp filter ({err}); it needs libseccomp2 "
            "and a kernel with seccomp filters (Linux >= 3.5). KG_SANDBOX=off runs without "
            "it, for tests of the guard only") from err


def _federation_sockets(sc, rules, deny: int, dgram: bool) -> None:
    """socket(): AF_UNIX, or AF_INET/AF_INET6 streams of TCP (and datagrams of UDP for DNS).

    A seccomp rule compares each argument once, so what is denied is enumerated."""
    inet = (socket.AF_INET, socket.AF_INET6)
    for family in range(AF_LIMIT):
        if family not in (socket.AF_UNIX, *inet):
            rules.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family))
    rules.add_rule(deny, "socket", sc.Arg(0, sc.GE, AF_LIMIT))
    kinds = {socket.SOCK_STREAM} | ({socket.SOCK_DGRAM} if dgram else set())
    protocols = {0, socket.IPPROTO_TCP} | ({socket.IPPROTO_UDP} if dgram else set())
    top = max(protocols)
    for family in inet:
        for kind in range(SOCK_TYPE_MASK + 1):
            if kind not in kinds:
                rules.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family),
                               sc.Arg(1, sc.MASKED_EQ, SOCK_TYPE_MASK, kind))
        for protocol in range(top):
            if protocol not in protocols:
                rules.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family),
                               sc.Arg(2, sc.EQ, protocol))
        rules.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family), sc.Arg(2, sc.GT, top))
