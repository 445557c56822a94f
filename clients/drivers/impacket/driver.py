#!/usr/bin/python3
"""impacket's SMBConnection behind the smb-interop client plug-in protocol, version 1
(clients/PLUGIN-PROTOCOL.md): JSON lines on stdin and stdout, diagnostics on stderr."""

import json
import os
import sys

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20
OPERATIONS = ["writeFile", "readFile", "stat", "readdir", "mkdir", "rmdir", "unlink", "rename", "exists"]

# What impacket 0.10's smb3.py implements: SMBConnection negotiates, by default, 2.0.2, 2.1 or 3.0
# (after an SMB1 negotiate), or the one dialect it is asked for; 3.0.2 is not among those it
# accepts, and its 3.1.1 signs with a key Samba and Windows reject (TREE_CONNECT answered
# STATUS_ACCESS_DENIED, https://github.com/fortra/impacket/issues/1370), so 3.1.1 is declared only
# when asked for with --dialect 3.1.1. It encrypts with AES-128-CCM only (sendSMB, recvSMB), and
# signs with HMAC-SHA256 (2.x) or AES-CMAC (3.x), never AES-GMAC (no signing capabilities context).
DIALECTS = {"2.0.2": 0x0202, "2.1": 0x0210, "3.0": 0x0300, "3.1.1": 0x0311}
DEFAULT_DIALECTS = ["2.0.2", "2.1", "3.0"]
CAPABILITIES = {
    "dialects": DEFAULT_DIALECTS,
    "ciphers": ["AES-128-CCM"],
    "signing": ["HMAC-SHA256", "AES-128-CMAC"],
    "auth": ["ntlm"],
    "operations": OPERATIONS,
    # SMBConnection's default opening (an SMB1 NEGOTIATE offering 2.002 and 2.???) finds no dialect
    # on a server whose minimum is 3.0: the target's declared range tells connect to ask for one.
    "hints": ["dialects"],
}

# The protocol's stdout carries only messages: keep it for them and send anything a library
# might print to stderr.
_protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
sys.stdout = sys.stderr


def log(text):
    print("smb-interop-impacket: " + text, file=sys.stderr, flush=True)


def send(message):
    line = json.dumps(message, separators=(",", ":"))
    if len(line.encode("utf-8")) >= MAX_LINE_BYTES:
        raise ValueError("a %d-byte message is longer than the protocol's 1 MiB line" % len(line))
    _protocol_out.write(line + "\n")
    _protocol_out.flush()


try:
    from impacket import nt_errors, smb3
    from impacket.smbconnection import SMBConnection, SessionError
    from impacket.smb3structs import (FILE_DIRECTORY_FILE, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ,
                                      FILE_SHARE_WRITE)
except ImportError as error:  # the hello cannot be honest without the library: say why and stop
    log("impacket is not importable by %s: %s (Debian: apt-get install python3-impacket)" % (sys.executable, error))
    sys.exit(3)


def faster_cmac():
    """impacket 0.10 signs SMB 3.x requests with `crypto.AES_CMAC`, pure Python that slices the
    rest of the message for every 16-byte block: 1.2 s for one 1 MiB WRITE, so a 64 MiB file on a
    signing target took 2 min 20 s of one core (and could pass the cell's timeout on a loaded
    machine). pycryptodome, which impacket already uses for AES, has AES-CMAC in C. The signature
    is a function of key and message only, so impacket's messages stay byte for byte what they
    were; the substitute is taken only after it gave impacket's own result for every length class
    (empty, short, whole and partial last block). SMB_INTEROP_IMPACKET_OWN_CMAC=1 keeps impacket's.
    Returns what the hello's version says of it."""
    if os.environ.get("SMB_INTEROP_IMPACKET_OWN_CMAC") == "1":
        return ""
    try:
        from Cryptodome.Cipher import AES
        from Cryptodome.Hash import CMAC
        from impacket import crypto
    except ImportError as error:
        log("impacket's own AES-CMAC signs (pycryptodome's CMAC is not importable: %s)" % error)
        return ""
    own = crypto.AES_CMAC

    def substitute(key, message, length):
        return CMAC.new(bytes(key), bytes(message[:length]), ciphermod=AES).digest()

    key = bytes(range(16))
    for length in list(range(0, 49)) + [64, 65, 1000]:
        message = bytes((i * 7 + length) & 0xFF for i in range(length))
        if substitute(key, message, length) != own(key, message, length):
            log("impacket's own AES-CMAC signs: pycryptodome's differs at a %d-byte message" % length)
            return ""
    crypto.AES_CMAC = substitute
    return " (AES-CMAC signing by pycryptodome)"


def library_version():
    """The installed impacket's version, from its package metadata (impacket.version imports
    pkg_resources for it: 60 ms of every driver's start)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("impacket")
    except PackageNotFoundError:
        return "unknown"


class Failure(Exception):
    """An operation the client failed: the protocol's error, with the NTSTATUS name when there is one."""

    def __init__(self, message, status=None):
        Exception.__init__(self, message)
        self.message = message
        self.status = status


def status_code(error):
    if isinstance(error, SessionError):
        return error.getErrorCode()
    if isinstance(error, smb3.SessionError):
        return error.get_error_code()
    return None


def describe(what, error):
    """impacket's error as the protocol's: SessionError carries the server's NTSTATUS code."""
    code = status_code(error)
    if code is None:
        return Failure("%s: %s: %s" % (what, type(error).__name__, error))
    code &= 0xFFFFFFFF
    known = nt_errors.ERROR_MESSAGES.get(code)
    if known is None:
        return Failure("%s: NTSTATUS 0x%08X, which impacket does not name" % (what, code))
    return Failure("%s: %s (0x%08X): %s" % (what, known[0], code, known[1]), known[0])


def arg(args, op, name, kind, optional=False):
    if name not in args:
        if optional:
            return None
        raise Failure("%s: args.%s is missing" % (op, name))
    value = args[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Failure("%s: args.%s must be %s" % (op, name, {str: "a string", int: "an integer", bool: "a boolean", dict: "an object"}[kind]))
    return value


def remote(path):
    """Share-relative `a/b` as impacket takes it (`a\\b`)."""
    return path.replace("/", "\\")


def dialect_for(hint):
    """The one dialect to ask for when the target admits none of SMB1-negotiate's (2.0.2, 2.1): the
    highest of impacket's defaults within the target's range; None (the library's default) otherwise."""
    if hint is None:
        return None
    order = list(DIALECTS)
    low, high = hint.get("min"), hint.get("max")
    if low not in order or high not in order:
        raise Failure("connect: dialects must be {min, max} among %s" % ", ".join(order))
    if order.index(low) <= order.index("2.1"):
        return None
    within = [d for d in DEFAULT_DIALECTS if order.index(low) <= order.index(d) <= order.index(high)]
    return DIALECTS[within[-1]] if within else None


class Client:
    def __init__(self, dialect=None):
        """`dialect`: the one dialect to offer (SMBConnection's preferredDialect), or None for the library's default."""
        self.dialect = dialect
        self.connection = None
        self.share = None
        self.tree = None

    def connect(self, args):
        host = arg(args, "connect", "host", str)
        port = arg(args, "connect", "port", int)
        share = arg(args, "connect", "share", str)
        username = arg(args, "connect", "username", str, optional=True)
        password = arg(args, "connect", "password", str, optional=True) or ""
        domain = arg(args, "connect", "domain", str, optional=True) or ""
        timeout_ms = arg(args, "connect", "timeoutMs", int, optional=True) or 30000
        if self.connection is not None:
            raise Failure("connect: already connected")
        hint = arg(args, "connect", "dialects", dict, optional=True)
        timeout = max(1, (timeout_ms + 999) // 1000)
        self.connection = self.negotiate(host, port, timeout, self.dialect or dialect_for(hint))
        try:
            # A guest logon is an NTLM logon with an account the server maps to its guest; an empty
            # user name would be an anonymous (null) session instead.
            self.connection.login("guest" if username is None else username, password, domain)
        except Exception as error:
            self.drop()
            raise describe("connect (SESSION_SETUP)", error)
        try:
            self.tree = self.connection.connectTree(share)
        except Exception as error:
            self.drop()
            raise describe("connect (TREE_CONNECT %s)" % share, error)
        self.share = share
        return {}

    def negotiate(self, host, port, timeout, dialect):
        try:
            return SMBConnection(host, host, sess_port=port, timeout=timeout, preferredDialect=dialect)
        except Exception as error:
            raise describe("connect (NEGOTIATE)", error)

    def drop(self):
        try:
            self.connection.close()
        except Exception as error:
            log("closing the connection: %s" % error)
        self.connection = None

    def close(self):
        if self.connection is None:
            return {}
        try:
            self.connection.disconnectTree(self.tree)
            self.connection.logoff()
        except Exception as error:
            raise describe("close (TREE_DISCONNECT, LOGOFF)", error)
        finally:
            try:
                self.connection.getSMBServer().close_session()
            except Exception as error:
                log("closing the socket: %s" % error)
            self.connection = None
        return {}

    def open_attributes(self, path):
        # CreateOptions 0: a file or a directory; FILE_READ_ATTRIBUTES is what a stat needs.
        return self.connection.openFile(self.tree, remote(path), desiredAccess=FILE_READ_ATTRIBUTES,
                                        shareMode=FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                        creationOption=0)

    def stat(self, path):
        try:
            handle = self.open_attributes(path)
        except Exception as error:
            raise describe("stat %s" % path, error)
        try:
            info = self.connection.queryInfo(self.tree, handle)
        except Exception as error:
            raise describe("stat %s" % path, error)
        finally:
            self.connection.closeFile(self.tree, handle)
        return {"size": info["EndOfFile"], "isDirectory": info["Directory"] != 0}

    def exists(self, path):
        try:
            self.stat(path)
        except Failure as failure:
            if failure.status in ("STATUS_OBJECT_NAME_NOT_FOUND", "STATUS_OBJECT_PATH_NOT_FOUND", "STATUS_NO_SUCH_FILE"):
                return {"exists": False}
            raise
        return {"exists": True}

    def write_file(self, path, source):
        try:
            local = open(source, "rb")
        except OSError as error:
            raise Failure("writeFile: cannot read the local source: %s" % error)
        with local:
            try:
                self.connection.putFile(self.share, remote(path), local.read)
            except Exception as error:
                raise describe("writeFile %s" % path, error)
        return {}

    def read_file(self, path, destination):
        try:
            local = open(destination, "wb")
        except OSError as error:
            raise Failure("readFile: cannot create the local destination: %s" % error)
        with local:
            try:
                self.connection.getFile(self.share, remote(path), local.write)
            except Exception as error:
                raise describe("readFile %s" % path, error)
            size = local.tell()
        return {"size": size}

    def readdir(self, path):
        pattern = "*" if path == "" else remote(path) + "\\*"
        try:
            found = self.connection.listPath(self.share, pattern)
        except Exception as error:
            raise describe("readdir %s" % path, error)
        return {"entries": [
            {"name": entry.get_longname(), "isDirectory": entry.is_directory() != 0, "size": entry.get_filesize()}
            for entry in found if entry.get_longname() not in (".", "..")
        ]}

    def mkdir(self, path):
        self.call("mkdir", path, self.connection.createDirectory, self.share, remote(path))
        return {}

    def rmdir(self, path):
        self.call("rmdir", path, self.connection.deleteDirectory, self.share, remote(path))
        return {}

    def unlink(self, path):
        self.call("unlink", path, self.connection.deleteFile, self.share, remote(path))
        return {}

    def rename(self, source, target, replace):
        # smb3.py's rename always sends FileRenameInformation with ReplaceIfExists 1: whatever
        # `replace` says, impacket replaces an existing target.
        self.call("rename", "%s -> %s" % (source, target), self.connection.rename, self.share, remote(source), remote(target))
        return {}

    @staticmethod
    def call(op, what, function, *args):
        try:
            function(*args)
        except Exception as error:
            raise describe("%s %s" % (op, what), error)

    def handle(self, op, args):
        if op == "connect":
            return self.connect(args)
        if op == "close":
            return self.close()
        if op not in OPERATIONS:
            raise Failure("unknown operation %s" % op)
        if self.connection is None:
            raise Failure("%s: not connected (connect must come first)" % op)
        if op == "writeFile":
            return self.write_file(arg(args, op, "path", str), arg(args, op, "source", str))
        if op == "readFile":
            return self.read_file(arg(args, op, "path", str), arg(args, op, "destination", str))
        if op == "rename":
            return self.rename(arg(args, op, "from", str), arg(args, op, "to", str), arg(args, op, "replace", bool))
        path = arg(args, op, "path", str)
        return {"stat": self.stat, "readdir": self.readdir, "mkdir": self.mkdir, "rmdir": self.rmdir,
                "unlink": self.unlink, "exists": self.exists}[op](path)


def parse_request(line):
    """The request on a line, or a ValueError naming what is wrong with it."""
    try:
        message = json.loads(line)
    except ValueError as error:
        raise ValueError("not JSON: %s" % error)
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    if message.get("type") != "request":
        raise ValueError("type is %r, expected 'request'" % message.get("type"))
    if not isinstance(message.get("id"), int) or isinstance(message.get("id"), bool):
        raise ValueError("id must be an integer")
    if not isinstance(message.get("op"), str):
        raise ValueError("op must be a string")
    args = message.get("args", {})
    if not isinstance(args, dict):
        raise ValueError("args must be an object")
    return message["id"], message["op"], args


def serve(client):
    """Answers requests until close (0), the end of stdin (0) or a line that is not a request (2)."""
    stdin = sys.stdin.buffer
    while True:
        raw = stdin.readline(MAX_LINE_BYTES + 1)
        if raw == b"":
            log("stdin closed without close; logging off")
            client.drop() if client.connection is not None else None
            return 0
        if len(raw) > MAX_LINE_BYTES:
            log("a request line longer than 1 MiB")
            return 2
        try:
            request_id, op, args = parse_request(raw.decode("utf-8"))
        except ValueError as error:
            log("invalid request line (%s): %.200s" % (error, raw))
            return 2
        try:
            answer = {"type": "result", "id": request_id, "ok": True, "value": client.handle(op, args)}
        except Failure as failure:
            error = {"message": failure.message}
            if failure.status is not None:
                error["status"] = failure.status
            answer = {"type": "result", "id": request_id, "ok": False, "error": error}
        send(answer)
        if op == "close":
            return 0


def main():
    arguments = sys.argv[1:]
    dialect = None
    if arguments[:1] == ["--dialect"] and len(arguments) == 2 and arguments[1] in DIALECTS:
        dialect = arguments[1]
    elif arguments:
        log("usage: driver.py [--dialect %s]" % "|".join(DIALECTS))
        sys.exit(64)
    capabilities = dict(CAPABILITIES, dialects=[dialect] if dialect else DEFAULT_DIALECTS)
    send({
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "client": {"name": "impacket", "version": library_version() + faster_cmac()},
        "capabilities": capabilities,
    })
    sys.exit(serve(Client(DIALECTS[dialect] if dialect else None)))


if __name__ == "__main__":
    main()
