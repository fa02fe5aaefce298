"""A federation on loopback for the reliability scripts (crash-harness, load-test): an SMI,
alpha.test and beta.test with an agreement, each with `semd ca`, `semd pdp` and `semd mail`
started from the configuration semctl writes, as the end-to-end tests build theirs; users
enrolled over EST with openssl-made requests; the client API over mutual TLS."""
import base64
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import time

DOMAINS = ["alpha.test", "beta.test"]
PASSPHRASE = "crash harness"
ENVIRONMENT = dict(os.environ, SEM_KEY_PASSPHRASE=PASSPHRASE)


class FederationError(Exception):
    pass


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_ports(count):
    """Ports nothing listened on a moment ago, chosen below the kernel's ephemeral range:
    a port from bind(0) is released before the server binds it, and in that gap any
    outgoing connection may be given the same number; below the range only another
    listener can take it (the same rule as LoopbackPorts in SEMTransport)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_start = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768
    floor = 20000
    span = ephemeral_start - floor
    start = int.from_bytes(os.urandom(4), "big") % span
    ports = []
    for offset in range(span):
        port = floor + (start + offset) % span
        probe = socket.socket()
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            probe.close()
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} free ports on 127.0.0.1 between {floor} and {ephemeral_start - 1}")


def run(arguments, cwd=None, check=True, timeout=120):
    result = subprocess.run(arguments, cwd=cwd, env=ENVIRONMENT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise FederationError(f"{' '.join(arguments[:3])} failed ({result.returncode}): {result.stdout}{result.stderr}")
    return result


class Server:
    """One `semd ROLE --config FILE`, its output appended to a log file; killed and restarted."""

    def __init__(self, semd, role, config, logfile):
        self.semd, self.role, self.config, self.logfile = semd, role, config, logfile
        self.process = None
        self.starts = 0

    def start(self, timeout=60):
        offset = os.path.getsize(self.logfile) if os.path.exists(self.logfile) else 0
        output = open(self.logfile, "ab")
        self.process = subprocess.Popen([self.semd, self.role, "--config", self.config, "--log-level", "warning"],
                                        stdout=output, stderr=output, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
        output.close()
        self.starts += 1
        ready = f"semd {self.role} ready".encode()
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.logfile, "rb") as f:
                f.seek(offset)
                if ready in f.read():
                    return
            if self.process.poll() is not None:
                raise FederationError(f"semd {self.role} ({self.config}) exited with {self.process.returncode} "
                                   f"before it was ready; see {self.logfile}")
            time.sleep(0.05)
        raise FederationError(f"semd {self.role} ({self.config}) was not ready within {timeout} s; see {self.logfile}")

    def kill(self):
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Federation:
    def __init__(self, root, bindir):
        self.root = root
        self.semctl = os.path.join(bindir, "semctl")
        self.semd = os.path.join(bindir, "semd")
        ports = free_ports(11)
        self.smi_port = ports[0]
        # Per domain: mail HTTPS, SMTP, CA HTTPS, CA HTTP, PDP.
        self.ports = {"alpha.test": ports[1:6], "beta.test": ports[6:11]}
        self.servers = {}
        os.makedirs(os.path.join(root, "logs"), exist_ok=True)
        os.makedirs(os.path.join(root, "clients"), exist_ok=True)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def semctl_run(self, *arguments, check=True):
        return run([self.semctl, *arguments], cwd=self.root, check=check)

    def server(self, role, domain=None):
        key = role if domain is None else f"{role} {domain}"
        if key not in self.servers:
            config = self.path("smi", "smi.json") if role == "smi" else self.path(domain, f"{role}.json")
            name = key.replace(" ", "-")
            self.servers[key] = Server(self.semd, role, config, self.path("logs", f"{name}.log"))
        return self.servers[key]

    def create(self):
        self.semctl_run("smi", "init", "--dir", self.path("smi"), "--port", str(self.smi_port))
        self.server("smi").start()
        for domain in DOMAINS:
            self.init_domain(domain, self.ports[domain])
            self.register(domain)
            self.semctl_run("smi", "approve", domain, "--smi-dir", self.path("smi"))
            config = self.path(domain, "mail.json")
            with open(config) as f:
                mail = json.load(f)
            # Quick retries for a long time: a killed receiver is back within seconds, and
            # a delivery given up (bounced) would count as lost.
            mail["retrySchedule"] = [0.5] * 600
            mail["queueIntervalSeconds"] = 0.2
            with open(config, "w") as f:
                json.dump(mail, f, indent=2, sort_keys=True)
        self.semctl_run("agreement", "propose", "beta.test", "--id", "alpha-beta", "--domain-dir", self.path("alpha.test"))
        self.semctl_run("agreement", "accept", "alpha-beta", "--domain-dir", self.path("beta.test"))
        for domain in DOMAINS:
            for role in ["ca", "pdp", "mail"]:
                self.server(role, domain).start()

    def init_domain(self, domain, ports):
        self.semctl_run("domain", "init", domain, "--dir", self.root, "--mail-https-port", str(ports[0]),
                        "--smtp-port", str(ports[1]), "--ca-https-port", str(ports[2]), "--ca-http-port", str(ports[3]),
                        "--pdp-port", str(ports[4]))

    def register(self, domain, check=True):
        return self.semctl_run("smi", "register", "--domain-dir", self.path(domain), "--smi",
                               f"https://127.0.0.1:{self.smi_port}", "--smi-root", self.path("smi", "pki", "smi-root.pem"),
                               "--smi-signer", self.path("smi", "pki", "smi.pem"), "--refresh", "0.3", check=check)

    def config(self, domain, role):
        with open(self.path(domain, f"{role}.json")) as f:
            return json.load(f)

    def stop(self):
        for server in reversed(list(self.servers.values())):
            server.stop()


# MARK: Clients


def enrolment_code(output):
    found = re.search(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}", output)
    if not found:
        raise FederationError(f"no enrolment code in: {output}")
    return found.group(0)


class User:
    def __init__(self, federation, address):
        self.federation = federation
        self.address = address
        self.domain = address.split("@")[1]
        self.directory = federation.path("clients", address)
        self.certificate = os.path.join(self.directory, "signing.pem")
        self.key = os.path.join(self.directory, "signing.key")

    def make_request(self, name):
        """A P-256 key and a DER CSR for this address (openssl)."""
        os.makedirs(self.directory, exist_ok=True)
        key, csr = os.path.join(self.directory, f"{name}.key"), os.path.join(self.directory, f"{name}.csr")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
             "-subj", f"/CN={self.address}", "-addext", f"subjectAltName=email:{self.address}", "-outform", "DER",
             "-out", csr])
        with open(csr, "rb") as f:
            return key, f.read()

    def archive_header(self, key):
        """The encryption key sealed to the domain's key archive, as the CA demands."""
        pkcs8 = subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER"],
                               capture_output=True, env=ENVIRONMENT, check=True).stdout
        envelope = subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes-256-gcm", "-outform", "DER",
                                   self.federation.path(self.domain, "pki", "key-archive.pem")],
                                  input=pkcs8, capture_output=True, env=ENVIRONMENT, check=True).stdout
        return base64.b64encode(envelope).decode()

    def est(self, label, code, csr, archive=None, timeout=20):
        """POST /.well-known/est/LABEL/simpleenroll; returns (status, body)."""
        port = self.federation.ports[self.domain][2]
        headers = {"Content-Type": "application/pkcs10",
                   "Authorization": "Basic " + base64.b64encode(f"{self.address}:{code}".encode()).decode()}
        if archive:
            headers["SEM-Key-Archive"] = archive
        context = ssl.create_default_context(cafile=self.federation.path(self.domain, "pki", "root-ca.pem"))
        return https_request(context, f"ca.{self.domain}", port, "POST", f"/.well-known/est/{label}/simpleenroll",
                             base64.b64encode(csr), headers, timeout)

    def enrol_signing(self):
        """Adds the user and enrols a signing certificate (before any kill: setup)."""
        code = enrolment_code(self.federation.semctl_run("user", "add", self.address, "--domain-dir",
                                                        self.federation.path(self.domain)).stdout)
        key, csr = self.make_request("signing")
        status, body = self.est("sem-signing", code, csr)
        if status != 200:
            raise FederationError(f"EST enrolment of {self.address}: {status} {body[:300]!r}")
        write_pem_chain(body, self.certificate)
        os.replace(key, self.key)

    def context(self):
        context = ssl.create_default_context(cafile=self.federation.path(self.domain, "pki", "root-ca.pem"))
        context.load_cert_chain(self.certificate, self.key)
        return context

    def api(self, method, path, body=None, timeout=20):
        port = self.federation.ports[self.domain][0]
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return https_request(self.context(), f"mail.{self.domain}", port, method, path, body, headers, timeout)

    def pages(self, path):
        """Every entry of a cursor-paged listing (GET /v1/messages or /v1/notifications)."""
        entries, cursor = [], 0
        while True:
            status, body = self.api("GET", f"{path}?after={cursor}&limit=1000")
            if status != 200:
                raise FederationError(f"GET {path} as {self.address}: {status} {body[:300]!r}")
            page = json.loads(body)
            entries += page["entries"]
            if not page["entries"]:
                return entries
            cursor = page["cursor"]


def https_request(context, host, port, method, path, body, headers, timeout):
    """One request on a fresh connection to 127.0.0.1:PORT, presenting HOST as the server name."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        tls = context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = tls
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def write_pem_chain(est_body, path):
    """The certificates of an EST answer (base64 PKCS#7, RFC 7030 §4.2.3) as PEM."""
    der = base64.b64decode(b"".join(est_body.split()))
    pem = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs"], input=der, capture_output=True,
                         check=True).stdout
    with open(path, "wb") as f:
        f.write(pem)
    return der


def letter(recipient_certificates, text):
    """An S/MIME EnvelopedData (DER) for the recipients, made by openssl."""
    return subprocess.run(["openssl", "cms", "-encrypt", "-aes-256-gcm", "-outform", "DER", *recipient_certificates],
                          input=text.encode(), capture_output=True, check=True, env=ENVIRONMENT).stdout


def read_only(path, sql):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def wait_until(seconds, condition):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - a server may still be starting
            pass
        time.sleep(0.5)
    return condition()
