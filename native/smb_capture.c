/*
 * A passive capture of a local server's TCP traffic: a packet socket on the loopback interface
 * with a memory-mapped receive ring (TPACKET_V3) and a thread that writes what it receives to a
 * pcapng file. The client connects to the server directly, so nothing relays the bytes: the
 * kernel copies each packet once into the ring while it crosses the loopback. Needs CAP_NET_RAW;
 * harness/capture/passive.ts falls back to the relaying proxy when this is not built or not
 * allowed.
 *
 * One capture serves one cell at a time: begin() opens the file and says which server (IPv4
 * address and port) to record; only connections whose SYN arrives after begin() are written, so
 * a cell never shows another cell's traffic. end() marks the end; the thread goes on writing
 * until the cell's connections have closed both ways (or a short grace has passed) and the
 * ring holds nothing older, then closes the file; poll() returns the figures once it has.
 *
 * The kernel hands a block of the ring over when it is full or when its retire timer fires, and
 * that timer fires on every ring all the time, busy or idle: a short one costs every worker a
 * thousand interrupts a second. So the timer is long, and what makes the end of a cell visible
 * at once is a flush: datagrams to a UDP socket of the capture's own, on the loopback, enough to
 * fill whatever block is open. They pass the ring's filter, and once the thread has read one, it
 * has read everything captured before it.
 * The server's port is written as `display` (445, which Wireshark dissects as SMB2), the TCP
 * checksum updated to match.
 *
 * open(interface, ringBytes, blockBytes, retireMs) -> id | -errno
 * begin(id, path, ipv4, port, display, interfaceLabel) -> 0 | -errno
 * end(id) -> 0 | -errno
 * poll(id) -> undefined while the cell's capture is not finished | figures (below)
 * close(id) -> 0
 * figures: [frames, bytesToServer, bytesToClient, drops, writeErrno, connections, events], events: one
 *   [connection, side (0 client, 1 server), kind (0 FIN, 1 RST), timeMicros, afterFrame,
 *    lastDataMicros (-1: none), lastDataFromClient (0/1), lastDataLength] per connection end.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAPTURES 8
#define MAX_CONNS 256
#define MAX_EVENTS 512
#define WRITE_BUFFER (1 << 20)
/* Packets this large are written straight from the ring. */
#define DIRECT_WRITE 16384
/* How long end() lets a cell's open connections end on their own before the file is closed. */
#define GRACE_NS 200000000LL
/* A flush: this many datagrams of FLUSH_BYTES always close the block that is open. */
#define FLUSH_BYTES 65000
#define FLUSH_MAGIC 0x68736c6662696d73ULL /* "smbiflsh" */

enum state { IDLE, CAPTURING, ENDING, DONE, CLOSING };

struct conn {
  uint32_t client_ip;
  uint16_t client_port;
  uint64_t last_data_frame;
  int64_t last_data_us;
  bool last_from_client;
  uint32_t last_length;
  /* How each side ended: 0 not yet, 1 FIN, 2 RST. [0] the client, [1] the server. */
  uint8_t ended[2];
};

struct event {
  uint32_t conn;
  uint8_t side, kind;
  int64_t time_us;
  uint64_t after_frame;
  int64_t last_data_us;
  bool last_from_client;
  uint32_t last_length;
};

struct capture {
  bool used;
  int fd;
  /* The flush socket (sends to itself) and its port. */
  int marker;
  uint16_t marker_port;
  unsigned flush_count;
  uint8_t *flush_data;
  int wake[2];
  uint8_t *ring;
  size_t block_size;
  unsigned blocks;
  int64_t retire_ns;
  pthread_t thread;
  pthread_mutex_t lock;
  /* Below: guarded by lock. */
  enum state state;
  int out;
  uint32_t ip;
  uint16_t port, display;
  int64_t begin_ns, end_ns;
  /* The last flush sent, the last one the thread read, and when it was sent. */
  uint64_t flush_sent, flush_seen;
  int64_t flush_ns;
  bool grace_flushed;
  uint64_t frames, to_server, to_client;
  uint32_t drops;
  int write_errno;
  struct conn conns[MAX_CONNS];
  unsigned nconns;
  struct event events[MAX_EVENTS];
  unsigned nevents;
  uint8_t *buffer;
  size_t buffered;
};

static struct capture captures[MAX_CAPTURES];

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void wake(struct capture *c) {
  char byte = 1;
  ssize_t ignored = write(c->wake[1], &byte, 1);
  (void)ignored;
}

/* ---- the pcapng file ---- */

static void flush_out(struct capture *c) {
  size_t done = 0;
  while (done < c->buffered && c->write_errno == 0) {
    ssize_t n = write(c->out, c->buffer + done, c->buffered - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) c->write_errno = errno;
    else done += (size_t)n;
  }
  c->buffered = 0;
}

static void write_all(struct capture *c, struct iovec *parts, int count) {
  while (count > 0 && c->write_errno == 0) {
    ssize_t n = writev(c->out, parts, count);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      c->write_errno = errno;
      return;
    }
    while (count > 0 && (size_t)n >= parts->iov_len) n -= (ssize_t)parts->iov_len, parts++, count--;
    if (count > 0) parts->iov_base = (uint8_t *)parts->iov_base + n, parts->iov_len -= (size_t)n;
  }
}

static void put(struct capture *c, const void *data, size_t length) {
  if (c->buffered + length > WRITE_BUFFER) flush_out(c);
  memcpy(c->buffer + c->buffered, data, length);
  c->buffered += length;
}

static void put_u32(struct capture *c, uint32_t value) { put(c, &value, 4); }

static void write_header(struct capture *c, const char *label) {
  static const uint8_t zero[4];
  /* Section Header Block: little endian, version 1.0, section length unknown. */
  const uint32_t shb[] = {0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00000001, 0xffffffff, 0xffffffff, 28};
  put(c, shb, sizeof shb);
  /* Interface Description Block: Ethernet, no snap length, if_name. */
  size_t name = strlen(label);
  if (name > 200) name = 200;
  size_t padded = (name + 3) & ~(size_t)3;
  uint32_t length = 20 + 4 + (uint32_t)padded + 4;
  put_u32(c, 1);
  put_u32(c, length);
  put_u32(c, 1); /* link type 1 (Ethernet), reserved 0 */
  put_u32(c, 0); /* snap length: none */
  uint16_t option[2] = {2, (uint16_t)name};
  put(c, option, 4);
  put(c, label, name);
  put(c, zero, padded - name);
  put_u32(c, 0); /* opt_endofopt */
  put_u32(c, length);
}

/* The TCP checksum after a 16-bit field changed from `before` to `after` (RFC 1624, eqn. 3). */
static uint16_t checksum_update(uint16_t checksum, uint16_t before, uint16_t after) {
  uint32_t sum = (uint16_t)~checksum + (uint16_t)~before + after;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static struct conn *find_conn(struct capture *c, uint32_t ip, uint16_t port, unsigned *index) {
  /* The newest first: a port the client reuses names its latest connection. */
  for (unsigned i = c->nconns; i-- > 0;) {
    if (c->conns[i].client_port == port && c->conns[i].client_ip == ip) {
      *index = i;
      return &c->conns[i];
    }
  }
  return NULL;
}

static void record_end(struct capture *c, struct conn *conn, unsigned index, int side, int kind, int64_t time_us) {
  if (conn->ended[side] != 0) return;
  conn->ended[side] = (uint8_t)kind;
  if (c->nevents >= MAX_EVENTS) return;
  struct event *e = &c->events[c->nevents++];
  e->conn = index + 1;
  e->side = (uint8_t)side;
  e->kind = (uint8_t)(kind - 1);
  e->time_us = time_us;
  e->after_frame = conn->last_data_frame;
  e->last_data_us = conn->last_data_frame == 0 ? -1 : conn->last_data_us;
  e->last_from_client = conn->last_from_client;
  e->last_length = conn->last_length;
}

/* One captured packet (Ethernet, as the loopback interface gives it). */
static void packet(struct capture *c, struct tpacket3_hdr *h) {
  uint8_t *frame = (uint8_t *)h + h->tp_mac;
  uint32_t captured = h->tp_snaplen;
  int64_t ts = (int64_t)h->tp_sec * 1000000000LL + h->tp_nsec;
  if (captured < 14 + 20 + 8 || frame[12] != 0x08 || frame[13] != 0x00) return;
  uint8_t *ip = frame + 14;
  size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
  if (ip[9] == 17 && ihl >= 20 && 14 + ihl + 8 + 16 <= captured && ntohs(*(uint16_t *)(ip + ihl + 2)) == c->marker_port) {
    uint64_t magic, token;
    memcpy(&magic, ip + ihl + 8, 8);
    memcpy(&token, ip + ihl + 16, 8);
    if (magic == FLUSH_MAGIC && token > c->flush_seen) c->flush_seen = token;
    return;
  }
  if (ts < c->begin_ns || ip[9] != 6 || ihl < 20 || 14 + ihl + 20 > captured) return;
  size_t total = ntohs(*(uint16_t *)(ip + 2));
  if (total == 0 || 14 + total > h->tp_len) total = h->tp_len - 14; /* an offloaded segment's length */
  uint8_t *tcp = ip + ihl;
  uint16_t sport = ntohs(*(uint16_t *)tcp), dport = ntohs(*(uint16_t *)(tcp + 2));
  uint32_t src, dst;
  memcpy(&src, ip + 12, 4);
  memcpy(&dst, ip + 16, 4);
  bool to_server = dport == c->port && dst == c->ip;
  if (!to_server && !(sport == c->port && src == c->ip)) return;
  uint32_t client_ip = to_server ? src : dst;
  uint16_t client_port = to_server ? sport : dport;
  uint8_t flags = tcp[13];
  bool syn = flags & 0x02, ack = flags & 0x10, fin = flags & 0x01, rst = flags & 0x04;
  unsigned index = 0;
  struct conn *conn = find_conn(c, client_ip, client_port, &index);
  if (to_server && syn && !ack && (conn == NULL || conn->ended[0] || conn->ended[1])) {
    if (c->nconns >= MAX_CONNS) return;
    index = c->nconns++;
    conn = &c->conns[index];
    memset(conn, 0, sizeof *conn);
    conn->client_ip = client_ip;
    conn->client_port = client_port;
  }
  /* Not opened in this cell: another cell's connection (or one from before begin()). */
  if (conn == NULL) return;

  size_t tcp_length = total - ihl;
  size_t header = (size_t)(tcp[12] >> 4) * 4;
  size_t payload = tcp_length > header ? tcp_length - header : 0;
  if (c->display != c->port) {
    /* The checksum follows the port: right where the kernel computed it, and where it left the
     * sum to the (loopback's absent) hardware, as wrong as on any loopback capture. */
    uint16_t *field = (uint16_t *)(tcp + (to_server ? 2 : 0)), *checksum = (uint16_t *)(tcp + 16);
    *checksum = htons(checksum_update(ntohs(*checksum), ntohs(*field), c->display));
    *field = htons(c->display);
  }
  int64_t us = ts / 1000;
  uint32_t padded = (captured + 3) & ~3u;
  uint32_t length = 32 + padded;
  const uint32_t epb[] = {6, length, 0, (uint32_t)((uint64_t)us >> 32), (uint32_t)us, captured, h->tp_len};
  static const uint8_t zero[4];
  if (captured < DIRECT_WRITE) {
    put(c, epb, sizeof epb);
    put(c, frame, captured);
    put(c, zero, padded - captured);
    put_u32(c, length);
  } else {
    /* A large packet goes from the ring to the file without a copy in between. */
    flush_out(c);
    struct iovec parts[4] = {{(void *)epb, sizeof epb}, {frame, captured}, {(void *)zero, padded - captured}, {&length, 4}};
    write_all(c, parts, 4);
  }
  c->frames++;
  if (to_server) c->to_server += payload;
  else c->to_client += payload;
  if (payload > 0) {
    conn->last_data_frame = c->frames;
    conn->last_data_us = us;
    conn->last_from_client = to_server;
    conn->last_length = (uint32_t)payload;
  }
  if (rst) record_end(c, conn, index, to_server ? 0 : 1, 2, us);
  else if (fin) record_end(c, conn, index, to_server ? 0 : 1, 1, us);
}

static void block(struct capture *c, struct tpacket_block_desc *b) {
  struct tpacket3_hdr *h = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
  for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
    if (c->state == CAPTURING || c->state == ENDING) packet(c, h);
    h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
  }
}

static uint32_t read_drops(struct capture *c) {
  struct tpacket_stats_v3 stats;
  socklen_t length = sizeof stats;
  if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) return 0;
  return stats.tp_drops;
}

/* Sends a flush (under lock): the thread has read everything captured so far once it reads it. */
static void flush_ring(struct capture *c) {
  uint64_t token = ++c->flush_sent;
  memcpy(c->flush_data + 8, &token, 8);
  for (unsigned i = 0; i < c->flush_count; i++) {
    ssize_t ignored = send(c->marker, c->flush_data, FLUSH_BYTES, MSG_DONTWAIT);
    (void)ignored;
  }
  c->flush_ns = now_ns();
}

/* Whether an ending cell's capture is complete (under lock); sends the flush it still needs. */
static bool settled(struct capture *c, int64_t now) {
  /* A flush that never arrives (its datagrams dropped) is replaced by the retire timer's bound. */
  bool seen = c->flush_seen == c->flush_sent || now - c->flush_ns > 2 * c->retire_ns + 1000000LL;
  if (!seen) return false;
  bool open = false;
  for (unsigned i = 0; i < c->nconns; i++) open |= !(c->conns[i].ended[0] && c->conns[i].ended[1]);
  if (!open || c->grace_flushed) return true;
  if (now < c->end_ns + GRACE_NS) return false;
  /* The grace is over: what the open connections sent until now, and no more. */
  c->grace_flushed = true;
  flush_ring(c);
  return false;
}

static void finish(struct capture *c) {
  flush_out(c);
  if (close(c->out) != 0 && c->write_errno == 0) c->write_errno = errno;
  c->out = -1;
  c->drops += read_drops(c);
  c->state = DONE;
}

static void *run(void *arg) {
  struct capture *c = arg;
  unsigned next = 0;
  /* The ring overflows when this thread waits for a core behind the client and the server it
   * records: run it first where allowed (root), else ahead of them, else as it is. Its work is
   * bounded by what the kernel captured, so it cannot starve them. */
  struct sched_param param = {.sched_priority = 1};
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) != 0) {
    int ignored = setpriority(PRIO_PROCESS, (id_t)gettid(), -10);
    (void)ignored;
  }
  for (;;) {
    struct tpacket_block_desc *b = (struct tpacket_block_desc *)(c->ring + (size_t)next * c->block_size);
    if (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) {
      pthread_mutex_lock(&c->lock);
      block(c, b);
      pthread_mutex_unlock(&c->lock);
      __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      next = (next + 1) % c->blocks;
      continue;
    }
    int timeout = 1000;
    pthread_mutex_lock(&c->lock);
    if (c->state == CLOSING) {
      if (c->out >= 0) finish(c);
      c->state = CLOSING;
      pthread_mutex_unlock(&c->lock);
      return NULL;
    }
    if (c->state == ENDING) {
      if (settled(c, now_ns())) finish(c);
      else timeout = 1;
    }
    pthread_mutex_unlock(&c->lock);
    struct pollfd fds[2] = {{c->fd, POLLIN, 0}, {c->wake[0], POLLIN, 0}};
    if (poll(fds, 2, timeout) > 0 && (fds[1].revents & POLLIN)) {
      char drain[64];
      ssize_t ignored = read(c->wake[0], drain, sizeof drain);
      (void)ignored;
    }
  }
}

/* ---- N-API ---- */

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

static bool args(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t given = count;
  return napi_get_cb_info(env, info, &given, argv, NULL, NULL) == napi_ok && given >= count;
}

static struct capture *capture_of(napi_env env, napi_value value) {
  int32_t id = -1;
  if (napi_get_value_int32(env, value, &id) != napi_ok || id < 0 || id >= MAX_CAPTURES || !captures[id].used) return NULL;
  return &captures[id];
}

/* Gives back what open() took (whatever part of it it got). */
static void release(struct capture *c) {
  if (c->ring != NULL) munmap(c->ring, c->block_size * c->blocks);
  if (c->wake[0] > 0) close(c->wake[0]), close(c->wake[1]);
  if (c->marker >= 0) close(c->marker);
  free(c->buffer);
  free(c->flush_data);
  close(c->fd);
  c->used = false;
}

/* The capture a call's one argument names; NULL for a bad call. */
static struct capture *capture_argument(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  return args(env, info, 1, argv) ? capture_of(env, argv[0]) : NULL;
}

static napi_value open_capture(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char name[IF_NAMESIZE] = {0};
  size_t length = 0;
  int64_t ring_bytes = 0, block_bytes = 0, retire_ms = 0;
  if (!args(env, info, 4, argv) || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != napi_ok ||
      napi_get_value_int64(env, argv[1], &ring_bytes) != napi_ok || napi_get_value_int64(env, argv[2], &block_bytes) != napi_ok ||
      napi_get_value_int64(env, argv[3], &retire_ms) != napi_ok || block_bytes < 131072 || block_bytes % getpagesize() != 0 ||
      ring_bytes < block_bytes || retire_ms < 1)
    return number(env, -EINVAL);
  int id = 0;
  while (id < MAX_CAPTURES && captures[id].used) id++;
  if (id == MAX_CAPTURES) return number(env, -EMFILE);
  struct capture *c = &captures[id];
  memset(c, 0, sizeof *c);
  c->out = -1;
  c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (c->fd < 0) return number(env, -errno);
  int error = 0;
  /* Nothing until begin() says what to record. */
  struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog program = {1, none};
  int version = TPACKET_V3;
  struct tpacket_req3 req = {0};
  req.tp_block_size = (unsigned)block_bytes;
  req.tp_block_nr = (unsigned)(ring_bytes / block_bytes);
  req.tp_frame_size = 2048;
  req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
  req.tp_retire_blk_tov = (unsigned)retire_ms;
  struct sockaddr_ll address = {0};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = (int)if_nametoindex(name);
  if (address.sll_ifindex == 0 || setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0 ||
      setsockopt(c->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0 ||
      setsockopt(c->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
    error = errno;
  if (error == 0) {
    c->ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (c->ring == MAP_FAILED) error = errno, c->ring = NULL;
  }
  if (error == 0 && bind(c->fd, (struct sockaddr *)&address, sizeof address) != 0) error = errno;
  if (error == 0 && pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) error = errno;
  if (error == 0 && (c->buffer = malloc(WRITE_BUFFER)) == NULL) error = ENOMEM;
  if (error == 0 && (c->flush_data = calloc(1, FLUSH_BYTES)) == NULL) error = ENOMEM;
  c->marker = -1;
  if (error == 0) {
    /* Datagrams to itself on 127.0.0.1; never read, so a tiny receive buffer drops them after the ring has them. */
    struct sockaddr_in self = {0};
    socklen_t length = sizeof self;
    int small = 1;
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->marker = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (c->marker < 0 || setsockopt(c->marker, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) != 0 ||
        bind(c->marker, (struct sockaddr *)&self, sizeof self) != 0 || getsockname(c->marker, (struct sockaddr *)&self, &length) != 0 ||
        connect(c->marker, (struct sockaddr *)&self, sizeof self) != 0)
      error = errno;
    c->marker_port = ntohs(self.sin_port);
    uint64_t magic = FLUSH_MAGIC;
    if (c->flush_data != NULL) memcpy(c->flush_data, &magic, 8);
  }
  /* Enough datagrams that the last one never fits in the block the first one found open. */
  c->flush_count = (unsigned)(block_bytes / FLUSH_BYTES) + 2;
  c->block_size = req.tp_block_size;
  c->blocks = req.tp_block_nr;
  c->retire_ns = retire_ms * 1000000LL;
  if (error == 0) {
    pthread_mutex_init(&c->lock, NULL);
    /* The thread takes no signal meant for the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    error = pthread_create(&c->thread, NULL, run, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (error != 0) pthread_mutex_destroy(&c->lock);
  }
  if (error != 0) {
    release(c);
    return number(env, -error);
  }
  c->used = true;
  return number(env, id);
}

static napi_value begin_cell(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, 6, argv)) return number(env, -EINVAL);
  struct capture *c = capture_of(env, argv[0]);
  char path[4096], label[256];
  size_t length = 0;
  uint32_t ip = 0, port = 0, display = 0; /* ip: a.b.c.d as (a << 24 | b << 16 | c << 8 | d) */
  if (c == NULL || napi_get_value_string_utf8(env, argv[1], path, sizeof path, &length) != napi_ok || length >= sizeof path - 1 ||
      napi_get_value_uint32(env, argv[2], &ip) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &display) != napi_ok || port == 0 || port > 65535 || display == 0 || display > 65535 ||
      napi_get_value_string_utf8(env, argv[5], label, sizeof label, &length) != napi_ok)
    return number(env, -EINVAL);
  pthread_mutex_lock(&c->lock);
  int result = 0;
  if (c->state != IDLE) result = -EBUSY;
  if (result == 0) {
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) result = -errno;
    else c->out = out;
  }
  if (result == 0) {
    /* Ethernet, IPv4, TCP, not a fragment, the server's address and port on either side, or a
     * flush datagram; loopback packets only as they arrive (each is seen leaving as well). */
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 20, 0),
        /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 18),
        /* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 12, 0),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 15),
        /* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 13, 0),
        /* 9 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
        /* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 14),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 2),
        /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 26),
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip, 7, 0),
        /* 14 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
        /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 6),
        /* 16 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),
        /* 17 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip, 3, 4),
        /* 18: UDP, the capture's own flush */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
        /* 19 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
        /* 20 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->marker_port, 0, 1),
        /* 21 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
        /* 22 */ BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog program = {sizeof code / sizeof code[0], code};
    if (setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
      result = -errno;
      close(c->out);
      c->out = -1;
    }
  }
  if (result == 0) {
    c->ip = htonl(ip);
    c->port = (uint16_t)port;
    c->display = (uint16_t)display;
    c->frames = c->to_server = c->to_client = 0;
    c->drops = 0;
    c->write_errno = 0;
    c->nconns = c->nevents = 0;
    c->flush_seen = c->flush_sent;
    c->buffered = 0;
    read_drops(c); /* the statistics restart with each read */
    write_header(c, label);
    c->begin_ns = now_ns();
    c->state = CAPTURING;
  }
  pthread_mutex_unlock(&c->lock);
  return number(env, result);
}

static napi_value end_cell(napi_env env, napi_callback_info info) {
  struct capture *c = capture_argument(env, info);
  if (c == NULL) return number(env, -EINVAL);
  pthread_mutex_lock(&c->lock);
  int result = c->state == CAPTURING ? 0 : -EINVAL;
  if (result == 0) {
    c->state = ENDING;
    c->end_ns = now_ns();
    c->grace_flushed = false;
    flush_ring(c);
  }
  pthread_mutex_unlock(&c->lock);
  wake(c);
  return number(env, result);
}

static void set(napi_env env, napi_value array, uint32_t index, double value) { napi_set_element(env, array, index, number(env, value)); }

static napi_value poll_cell(napi_env env, napi_callback_info info) {
  napi_value result;
  struct capture *c = capture_argument(env, info);
  if (c == NULL) return number(env, -EINVAL);
  pthread_mutex_lock(&c->lock);
  if (c->state != DONE) {
    pthread_mutex_unlock(&c->lock);
    napi_get_undefined(env, &result);
    return result;
  }
  napi_value events;
  napi_create_array_with_length(env, 7, &result);
  napi_create_array_with_length(env, c->nevents, &events);
  set(env, result, 0, (double)c->frames);
  set(env, result, 1, (double)c->to_server);
  set(env, result, 2, (double)c->to_client);
  set(env, result, 3, c->drops);
  set(env, result, 4, c->write_errno);
  set(env, result, 5, c->nconns);
  for (unsigned i = 0; i < c->nevents; i++) {
    struct event *e = &c->events[i];
    napi_value row;
    napi_create_array_with_length(env, 8, &row);
    set(env, row, 0, e->conn);
    set(env, row, 1, e->side);
    set(env, row, 2, e->kind);
    set(env, row, 3, (double)e->time_us);
    set(env, row, 4, (double)e->after_frame);
    set(env, row, 5, (double)e->last_data_us);
    set(env, row, 6, e->last_from_client);
    set(env, row, 7, e->last_length);
    napi_set_element(env, events, i, row);
  }
  napi_set_element(env, result, 6, events);
  c->state = IDLE;
  pthread_mutex_unlock(&c->lock);
  return result;
}

static napi_value close_capture(napi_env env, napi_callback_info info) {
  struct capture *c = capture_argument(env, info);
  if (c == NULL) return number(env, -EINVAL);
  pthread_mutex_lock(&c->lock);
  c->state = CLOSING;
  pthread_mutex_unlock(&c->lock);
  wake(c);
  pthread_join(c->thread, NULL);
  pthread_mutex_destroy(&c->lock);
  release(c);
  return number(env, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"open", NULL, open_capture, NULL, NULL, NULL, napi_default, NULL},
      {"begin", NULL, begin_cell, NULL, NULL, NULL, napi_default, NULL},
      {"end", NULL, end_cell, NULL, NULL, NULL, napi_default, NULL},
      {"poll", NULL, poll_cell, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_capture, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
