/**
 * Whose listening socket answers on a port. A target picks a free port, then starts smbd on it;
 * in between, another target starting at the same moment (in this process or another) may be
 * handed the same port, and then only one smbd can bind it. A bare TCP probe would take the
 * other's listener for its own, and its clients would log on to a server that has never heard of
 * their accounts (STATUS_LOGON_FAILURE). So a target is ready only once the listener on its port
 * is a socket its own smbd holds, as /proc tells (Linux): the socket's inode from
 * /proc/net/tcp{,6}, and a process with that inode among its open files.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** TCP state LISTEN in /proc/net/tcp. */
const LISTEN = '0A';

/** The inodes of the sockets listening on `port` (any address), from /proc/net/tcp and tcp6; undefined when /proc cannot be read. */
export function listeningInodes(port: number): string[] | undefined {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes: string[] = [];
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] === LISTEN && fields[1]!.endsWith(suffix)) inodes.push(fields[9]!);
    }
  }
  return readable ? inodes : undefined;
}

/**
 * Whether some process listens on `port`: after a server of ours ended while starting, a listener
 * there is another's, which took the port first (then the start is retried on another port).
 * False when /proc cannot tell.
 */
export function portHeldByAnother(port: number): boolean {
  return (listeningInodes(port)?.length ?? 0) > 0;
}

/** How long a port may answer from another server before a start tries another port. */
export const FOREIGN_LISTENER_MS = 1000;

/**
 * Whether process `pid` holds the socket listening on `port`: true, false (someone else's, or
 * none yet), or undefined when /proc cannot tell (then the caller goes by the TCP probe alone).
 */
export function listenerHeldBy(pid: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (inodes === undefined) return undefined;
  if (inodes.length === 0) return false;
  const wanted = new Set(inodes.map((inode) => `socket:[${inode}]`));
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    // Gone, or not ours to look at.
    return false;
  }
  for (const fd of fds) {
    try {
      if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
}

/**
 * The same check inside a container, as a POSIX sh script taking the port as $1: exits 0 when a
 * process of the container holds the listener on it, 1 when none does. With host networking the
 * container sees every socket on the host but only its own processes, so a listener found among
 * their open files is its smbd's.
 */
export const LISTENER_HELD_IN_CONTAINER = `hex=$(printf '%04X' "$1")
inodes=''
for table in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$table" ] || continue
  while read -r sl local remote st rest; do
    [ "$st" = 0A ] && [ "\${local##*:}" = "$hex" ] || continue
    set -- $rest
    inodes="$inodes \${6}"
  done < "$table"
done
[ -n "$inodes" ] || exit 1
for fd in /proc/[0-9]*/fd/*; do
  link=$(readlink "$fd" 2>/dev/null) || continue
  for inode in $inodes; do
    [ "$link" = "socket:[$inode]" ] && exit 0
  done
done
exit 1`;
