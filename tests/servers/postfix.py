"""A private Debian Postfix instance on loopback for interop tests of the SMTP probe.

It runs from its own config directory and queue (`postfix -c DIR`), listens only on
127.0.0.1 on three free ports (an MX-style smtpd, submission with mandatory STARTTLS and SASL,
and smtps with implicit TLS), uses a trustme certificate, delivers nothing (every transport is
`error:`), and is stopped at the end. A watchdog process stops it too if the test run dies.

Needs root (the master daemon starts as root and drops to `postfix`) and Debian's postfix
package; `unavailable()` says why not otherwise, for a visible skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import trustme

HOST = "127.0.0.1"
NAME = "mx.postfix.test"
#: the watchdog stops a forgotten instance after this long whatever happens
MAX_LIFETIME_S = 1800

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {name}
mydomain = postfix.test
myorigin = $myhostname
mydestination = $myhostname, localhost
# nobody is trusted by address: the probe on 127.0.0.1 must be treated as a stranger
mynetworks =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_banner = $myhostname ESMTP $mail_name
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = {dir}/tls/chain.pem
smtpd_tls_key_file = {dir}/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {dir}/sasl
# this instance never delivers anything anywhere
default_transport = error:smtpbot test instance delivers nothing
relay_transport = error:smtpbot test instance delivers nothing
local_transport = error:smtpbot test instance delivers nothing
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
{extra}
"""

MASTER_CF = """\
{host}:{smtp} inet n - n - - smtpd
{host}:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
{sasl}  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
{host}:{smtps} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
{sasl}  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""

#: submission and smtps offer AUTH only when Cyrus can (without mechanisms smtpd would refuse
#: to start the service); Dovecot SASL is not installed here, so Cyrus is the only kind tried
SASL_OPTIONS = "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n"

#: Cyrus SASL for smtpd: PLAIN and LOGIN from a sasldb that stays empty (the probe never logs in)
SMTPD_CONF = "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: {dir}/sasldb2\n"


def unavailable() -> str | None:
    """None when a private Postfix can run here, else the reason (for a visible skip)."""
    if os.geteuid() != 0:
        return "Postfix interop needs root (the master daemon starts as root); run the suite as root"
    if not shutil.which("postfix") or not shutil.which("postconf"):
        return "Postfix is not installed (the test script installs it as root: apt-get install -y postfix)"
    return None


def sasl_mechanisms() -> set[str]:
    """The AUTH mechanisms this Postfix can offer: Cyrus support compiled in and its plugins present."""
    kinds = subprocess.run(["postconf", "-a"], capture_output=True, text=True, check=False).stdout.split()
    if "cyrus" not in kinds:
        return set()
    plugins = {os.path.basename(p).split(".")[0] for p in glob.glob("/usr/lib/*/sasl2/lib*.so*")}
    return {m for m, lib in (("PLAIN", "libplain"), ("LOGIN", "liblogin")) if lib in plugins}


def free_ports(count: int) -> list[int]:
    """Free loopback ports, held open together so they differ (Postfix cannot take port 0)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class PostfixInstance:
    """One private Postfix; `start()` then `stop()` (or use it as a context manager)."""

    ca: trustme.CA
    #: more main.cf lines (a variant under test, e.g. a protocol limit)
    extra: str = ""
    smtp: int = 0
    submission: int = 0
    smtps: int = 0
    dir: str = ""
    _watchdog: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PostfixInstance:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="smtpbot-postfix-")
        os.chmod(self.dir, 0o755)  # the postfix user must reach its queue below it
        self.smtp, self.submission, self.smtps = free_ports(3)
        try:
            self._write_config()
            self._postfix("check")  # creates the queue's subdirectories with their owners
            self._postfix("start")
            self._watchdog = subprocess.Popen(
                ["sh", "-c", f'n=0; while kill -0 {os.getpid()} 2>/dev/null && [ $n -lt {MAX_LIFETIME_S} ]; '
                             f'do sleep 1; n=$((n+1)); done; postfix -c "{self.dir}" stop'],
                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._wait_listening()
        except (OSError, RuntimeError, subprocess.SubprocessError):
            self.stop()
            raise

    def stop(self) -> None:
        if self.dir:
            subprocess.run(["postfix", "-c", self.dir, "stop"], capture_output=True, check=False, timeout=30)
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait(5)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""

    def log(self) -> str:
        try:
            with open(f"{self.dir}/maillog", encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def _write_config(self) -> None:
        for sub in ("tls", "sasl", "queue", "data"):
            os.makedirs(f"{self.dir}/{sub}", mode=0o755)
        shutil.chown(f"{self.dir}/data", "postfix")  # master.lock and the TLS session cache live here
        leaf = self.ca.issue_cert(NAME)
        leaf.private_key_pem.write_to_path(f"{self.dir}/tls/key.pem")
        os.chmod(f"{self.dir}/tls/key.pem", 0o600)
        with open(f"{self.dir}/tls/chain.pem", "wb") as fh:
            for blob in leaf.cert_chain_pems:
                fh.write(blob.bytes())
        values = {"dir": self.dir, "name": NAME, "host": HOST, "smtp": self.smtp,
                  "submission": self.submission, "smtps": self.smtps,
                  "sasl": SASL_OPTIONS if sasl_mechanisms() else "", "extra": self.extra}
        for file, template in (("main.cf", MAIN_CF), ("master.cf", MASTER_CF), ("sasl/smtpd.conf", SMTPD_CONF)):
            with open(f"{self.dir}/{file}", "w", encoding="ascii") as fh:
                fh.write(template.format(**values))

    def _postfix(self, command: str) -> None:
        done = subprocess.run(["postfix", "-c", self.dir, command], capture_output=True, text=True,
                              check=False, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"postfix {command} failed: {done.stderr.strip()}\n{self.log()}")

    def _wait_listening(self, limit: float = 20.0) -> None:
        deadline = time.monotonic() + limit
        for port in (self.smtp, self.submission, self.smtps):
            while True:
                try:
                    socket.create_connection((HOST, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Postfix did not listen on {port}:\n{self.log()}") from None
                    time.sleep(0.1)
