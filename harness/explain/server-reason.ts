/**
 * The server's own account of a failure, read from Samba's log. At log level 3 smbd writes every
 * failed SMB2 request as `smbd_smb2_request_error_ex: ... status[NT_STATUS_X] || at
 * ../../source3/smbd/FILE.c:LINE`, and usually says why a few lines before (`reject session with
 * dialect[0x0302] as encryption is required`); it ends each connection's process with
 * `Server exit (REASON)`. Pure: log text in, findings out. Works on the plain lines smbd prints with
 * --debug-stdout and on headed entries (`[date, level, pid=N] file:line(function)` followed by
 * indented text), where the pid keeps one connection's lines apart from another's.
 */

/** A request smbd answered with an error status. */
export interface ServerFailure {
  /** The status as the MS-ERREF name the client sees: `STATUS_ACCESS_DENIED` (Samba logs `NT_STATUS_...`). */
  status: string;
  /** The source file and line that set it, e.g. `smb2_sesssetup.c:147`. */
  location: string | undefined;
  /** The log line before it that says why, without its function prefix; undefined when none does. */
  reason: string | undefined;
  /** 0-based line of the error in the log. */
  line: number;
}

/** A connection's smbd process ending: `Server exit (REASON)`, with what it logged just before. */
export interface ServerExit {
  /** The text in parentheses, e.g. `NT_STATUS_END_OF_FILE` (the client closed) or `NT_STATUS_CONNECTION_RESET`. */
  exit: string;
  /** Whether this is how a connection ends when the client closes it or goes away. */
  clientWent: boolean;
  reason: string | undefined;
  line: number;
}

interface LogLine {
  text: string;
  /** The smbd process that wrote it, when the log has headers. */
  pid: number | undefined;
}

const HEADER = /^\[\d{4}\/\d{2}\/\d{2} [\d:.]+,\s*\d+(?:, pid=(\d+))?[^\]]*\]/;
const REQUEST_ERROR = /smbd_smb2_request_error_ex:.*status\[(?:NT_)?(STATUS_[A-Z0-9_]+)\](?:\s*\|\|\s*at\s+(\S+))?/;
const SERVER_EXIT = /^Server exit \((.*)\)\s*$/;
/** Where one request's lines start: looking further back would borrow another request's reason. */
const BOUNDARY = /smbd_smb2_request_error_ex:|^Allowed connection from|^Server exit \(/;
/** Words of a line that gives a reason. */
const REASONING = /\b(?:reject\w*|refus\w*|denied|deny|fail\w*|couldn't|could not|cannot|can't|invalid|not permitted|not allowed|not supported|required|mismatch|wrong|bad|unknown|no such|expired|disabled|violat\w*|NT_STATUS_[A-Z0-9_]+)\b/i;
/** smbd's routine chatter at level 3, some of which uses the words above without being a reason. */
const CHATTER = [
  /^\{"timestamp"/, // JSON audit records: the Auth line and the gensec line say the same in words
  /^Auth: /,
  /^GENSEC backend /,
  /^Registered MSG_/,
  /^init_oplocks:/,
  /^Initialising /,
  /^Processing section /,
  /^lp_load_ex:/,
  /^adding IPC service/,
  /^NTLMSSP Sign\/Seal/,
  /^Got NTLMSSP /,
  /^fcntl_getlock:/,
  /^smbd_dirptr_get_entry /,
  /^get_referred_path:/,
  /^Forcing Primary Group/,
  /^Failed to fetch domain sid for /,
  /^Adding homes service /,
  /^checking for home directory /,
  /^load_usershare_service:/,
  /^WARNING: Ignoring invalid value /,
];
/** How far back a reason may be, in lines of the same process. */
const REASON_WINDOW = 12;
/** `Server exit` reasons that mean the client closed or went away, not that the server ended it. */
const CLIENT_WENT = /^(?:NT_STATUS_END_OF_FILE|NT_STATUS_CONNECTION_RESET|NT_STATUS_CONNECTION_DISCONNECTED|failed to receive request length|termination signal)$/;

function splitLog(log: string): LogLine[] {
  const out: LogLine[] = [];
  let pid: number | undefined;
  for (const raw of log.split('\n')) {
    const header = HEADER.exec(raw);
    if (header) {
      pid = header[1] === undefined ? undefined : Number(header[1]);
      continue;
    }
    const text = raw.trim();
    if (text !== '') out.push({ text, pid });
  }
  return out;
}

function withoutFunctionPrefix(text: string): string {
  return text.replace(/^[a-z_][a-z0-9_]*:\s+/i, '');
}

function fileAndLine(location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  const slash = location.lastIndexOf('/');
  return slash < 0 ? location : location.slice(slash + 1);
}

/** The nearest line before `index` of the same process that gives a reason. */
function reasonBefore(lines: readonly LogLine[], index: number): string | undefined {
  const pid = lines[index]?.pid;
  let seen = 0;
  for (let i = index - 1; i >= 0 && seen < REASON_WINDOW; i--) {
    const line = lines[i]!;
    if (pid !== undefined && line.pid !== pid) continue;
    seen++;
    if (BOUNDARY.test(line.text)) return undefined;
    if (CHATTER.some((c) => c.test(line.text))) continue;
    if (REASONING.test(line.text)) return withoutFunctionPrefix(line.text);
  }
  return undefined;
}

/** Every failed request in the log, in order. */
export function serverFailures(log: string): ServerFailure[] {
  const lines = splitLog(log);
  const out: ServerFailure[] = [];
  lines.forEach((line, index) => {
    const m = REQUEST_ERROR.exec(line.text);
    if (m) out.push({ status: m[1]!, location: fileAndLine(m[2]), reason: reasonBefore(lines, index), line: index });
  });
  return out;
}

/** Every connection process's end, in order. */
export function serverExits(log: string): ServerExit[] {
  const lines = splitLog(log);
  const out: ServerExit[] = [];
  lines.forEach((line, index) => {
    const m = SERVER_EXIT.exec(line.text);
    if (m) out.push({ exit: m[1]!, clientWent: CLIENT_WENT.test(m[1]!), reason: reasonBefore(lines, index), line: index });
  });
  return out;
}

/**
 * The server's reason for the `occurrence`-th (0-based) failure with `status` (`STATUS_ACCESS_DENIED`),
 * e.g. `reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)`;
 * undefined when the log holds no such failure. The last one is taken when there are fewer.
 */
export function serverReasonFor(failures: readonly ServerFailure[], status: string, occurrence = 0): string | undefined {
  const matching = failures.filter((f) => f.status === status);
  const failure = matching[Math.min(occurrence, matching.length - 1)];
  return failure === undefined ? undefined : describeServerFailure(failure);
}

export function describeServerFailure(failure: ServerFailure): string {
  const where = failure.location === undefined ? '' : ` (${failure.location})`;
  return failure.reason === undefined ? `${failure.status}${failure.location === undefined ? '' : ` at ${failure.location}`}` : `${failure.reason}${where}`;
}

/** How the server ended connections itself (not the client closing), e.g. `NT_STATUS_INVALID_PARAMETER after: invalid SMB2 header`. */
export function serverEndedConnections(log: string): string[] {
  return serverExits(log)
    .filter((e) => !e.clientWent)
    .map((e) => (e.reason === undefined ? e.exit : `${e.exit}, after: ${e.reason}`));
}

/**
 * Lines smbd logs when the machine, not the client, failed it: accounts it cannot resolve, memory,
 * file descriptors, disk, its databases, a panic. A cell whose server logged one is an infra-error,
 * never a client's red cell.
 */
const ENVIRONMENT_FAULTS: readonly RegExp[] = [
  /getpwuid\(\d+\) failed/,
  /getpwnam\(\) fails/,
  /Failed to find authenticated user .* via getpwnam\(\)/,
  /Username .* is invalid on this system/,
  /both getpwuid\(0\) and getpwnam\("root"\) failed/,
  /sid_to_uid(?: for .*)? failed/,
  /create_connection_session_info failed: NT_STATUS_(?:NO_MEMORY|INSUFFICIENT_RESOURCES)/,
  /\bout of memory\b/i,
  /\btalloc failed\b/,
  /\bPANIC\b/,
  /INTERNAL ERROR: .* in pid/,
  /Failed to open .*\.tdb/,
  /Too many open files/,
  /No space left on device/,
];

/** The first log line that shows a fault of the server's environment, or undefined. */
export function serverEnvironmentFault(log: string): string | undefined {
  return splitLog(log).find((line) => ENVIRONMENT_FAULTS.some((fault) => fault.test(line.text)))?.text;
}
