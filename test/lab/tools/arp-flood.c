// Lab tool: a rate-controlled ARP flooder for the watch benchmark (test/bench/watch.bench.ts).
// Compiled at test time by arp-flood.ts (cc -O2 into a temporary directory); runs inside a lab namespace.
//
//   arp-flood --dev lan0 --subnet 10.213.7 --rate 100000 --duration-ms 3000
//             [--first 100 --last 250]          sender IPs <subnet>.first .. <subnet>.last, one fixed MAC each
//             [--mac-salt N]                    0..255 into the stations' MACs (byte 3): two flooders with other salts
//                                               give the same addresses other MACs (changed MACs, flip-flops)
//             [--batch 32]                      frames per sendmmsg
//             [--malformed-every N]             every N-th frame is a malformed ARP frame (bad opcode/hlen/truncated)
//             [--conflict-ip IP --conflict-every-ms T]  a gratuitous ARP (announcement) for IP every T ms, from
//             [--conflict-mac 02:1f:ee:ff:00:00]        this MAC with the conflict's sequence number in its last 2 bytes
//
// The pool mixes ARP requests (broadcast) and replies (to a MAC nobody owns, so the bridge floods them to every
// port) between the stations, so that after one pass every frame hits an existing binding. Frames are sent on an
// AF_PACKET socket with PACKET_QDISC_BYPASS, in batches of --batch with sendmmsg; pacing is against
// CLOCK_MONOTONIC (the batch is sent when it is due; the flooder sleeps until the next one is).
//
// Prints JSON lines on stdout:
//   {"type":"start","realtimeNs":N}
//   {"type":"conflict","seq":i,"ip":"..","mac":"..","realtimeNs":N}   CLOCK_REALTIME just before the sendmmsg that carries it
//   {"type":"summary","sent":N,"malformed":M,"conflicts":C,"failed":F,"elapsedNs":N,"rate":R}
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 60
#define POOL 4096
#define MAX_BATCH 256

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_mac(const char *text, uint8_t out[6]) {
  unsigned v[6];
  if (sscanf(text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) out[i] = (uint8_t)v[i];
  return 0;
}

static unsigned mac_salt = 0;

static void station_mac(uint8_t mac[6], unsigned host) {
  const uint8_t base[6] = {0x02, 0x1f, 0xee, 0x00, 0x00, 0x00};
  memcpy(mac, base, 6);
  mac[3] = (uint8_t)mac_salt;
  mac[4] = (uint8_t)(host >> 8);
  mac[5] = (uint8_t)host;
}

/* Writes one Ethernet II + ARP frame (60 bytes, zero padded). */
static void build_arp(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t op, const uint8_t smac[6],
                      uint32_t sip, const uint8_t tmac[6], uint32_t tip) {
  memset(f, 0, FRAME_LEN);
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  f[12] = 0x08; f[13] = 0x06;
  f[14] = 0x00; f[15] = 0x01;          /* htype Ethernet */
  f[16] = 0x08; f[17] = 0x00;          /* ptype IPv4 */
  f[18] = 6; f[19] = 4;
  f[20] = (uint8_t)(op >> 8); f[21] = (uint8_t)op;
  memcpy(f + 22, smac, 6);
  memcpy(f + 28, &sip, 4);             /* network order already */
  memcpy(f + 32, tmac, 6);
  memcpy(f + 38, &tip, 4);
}

static const char *arg(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 1; i + 1 < argc; i++) if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

int main(int argc, char **argv) {
  const char *dev = arg(argc, argv, "--dev", "lan0");
  const char *subnet = arg(argc, argv, "--subnet", NULL);
  double rate = atof(arg(argc, argv, "--rate", "10000"));
  uint64_t duration_ns = (uint64_t)(atof(arg(argc, argv, "--duration-ms", "1000")) * 1e6);
  unsigned first = (unsigned)atoi(arg(argc, argv, "--first", "100"));
  unsigned last = (unsigned)atoi(arg(argc, argv, "--last", "250"));
  int batch = atoi(arg(argc, argv, "--batch", "32"));
  long malformed_every = atol(arg(argc, argv, "--malformed-every", "0"));
  const char *conflict_ip = arg(argc, argv, "--conflict-ip", NULL);
  double conflict_every_ms = atof(arg(argc, argv, "--conflict-every-ms", "500"));
  const char *conflict_mac_text = arg(argc, argv, "--conflict-mac", "02:1f:ee:ff:00:00");
  mac_salt = (unsigned)atoi(arg(argc, argv, "--mac-salt", "0")) & 0xffu;
  if (subnet == NULL || rate <= 0 || batch < 1 || batch > MAX_BATCH || first < 1 || last > 254 || first > last) {
    fprintf(stderr, "usage: arp-flood --dev IF --subnet A.B.C --rate FPS --duration-ms MS [--first N --last N] [--batch N]\n"
                    "       [--malformed-every N] [--conflict-ip IP --conflict-every-ms T --conflict-mac MAC]\n");
    return 2;
  }
  uint8_t conflict_mac[6];
  if (parse_mac(conflict_mac_text, conflict_mac) != 0) { fprintf(stderr, "bad --conflict-mac\n"); return 2; }
  uint32_t conflict_addr = 0;
  if (conflict_ip != NULL && inet_pton(AF_INET, conflict_ip, &conflict_addr) != 1) { fprintf(stderr, "bad --conflict-ip\n"); return 2; }

  int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receives nothing */
  if (fd < 0) { perror("socket"); return 1; }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = (int)if_nametoindex(dev);
  addr.sll_protocol = 0;
  if (addr.sll_ifindex == 0) { perror("if_nametoindex"); return 1; }
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }

  /* The pool: requests and replies between stations, some malformed. */
  static uint8_t pool[POOL][FRAME_LEN];
  static int pool_len[POOL];
  const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const uint8_t nobody[6] = {0x02, 0x1f, 0xee, 0xff, 0xff, 0xfe};
  const uint8_t zero[6] = {0};
  unsigned stations = last - first + 1;
  char text[32];
  for (int i = 0; i < POOL; i++) {
    unsigned s = first + (unsigned)i % stations;
    unsigned t = first + (unsigned)(i * 7 + 3) % stations;
    uint8_t smac[6], tmac[6];
    station_mac(smac, s);
    station_mac(tmac, t);
    uint32_t sip, tip;
    snprintf(text, sizeof text, "%s.%u", subnet, s);
    if (inet_pton(AF_INET, text, &sip) != 1) { fprintf(stderr, "bad --subnet\n"); return 2; }
    snprintf(text, sizeof text, "%s.%u", subnet, t);
    inet_pton(AF_INET, text, &tip);
    if ((i / stations) % 2 == 0) build_arp(pool[i], broadcast, smac, 1, smac, sip, zero, tip);
    else build_arp(pool[i], nobody, smac, 2, smac, sip, tmac, tip);
    pool_len[i] = FRAME_LEN;
  }
  long malformed_total = 0;
  /* Malformed frames take positions in the stream (every --malformed-every-th), not pool slots. */
  static uint8_t bad[3][FRAME_LEN];
  memcpy(bad[0], pool[0], FRAME_LEN); bad[0][20] = 0; bad[0][21] = 9;   /* opcode 9 */
  memcpy(bad[1], pool[1], FRAME_LEN); bad[1][18] = 8;                  /* hlen 8 */
  memcpy(bad[2], pool[2], FRAME_LEN);                                   /* truncated: 14 + 10 bytes */
  int bad_len[3] = {FRAME_LEN, FRAME_LEN, 24};
  uint8_t conflict_frame[FRAME_LEN];
  if (conflict_ip != NULL) build_arp(conflict_frame, broadcast, conflict_mac, 1, conflict_mac, conflict_addr, zero, conflict_addr);

  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < MAX_BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addr;
    msgs[i].msg_hdr.msg_namelen = sizeof addr;
  }

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t start = now_ns(CLOCK_MONOTONIC);
  printf("{\"type\":\"start\",\"realtimeNs\":%llu}\n", (unsigned long long)now_ns(CLOCK_REALTIME));
  uint64_t sent = 0, failed = 0, conflicts = 0, position = 0;
  uint64_t conflict_every_ns = (uint64_t)(conflict_every_ms * 1e6);
  uint64_t next_conflict = conflict_every_ns;
  double ns_per_frame = 1e9 / rate;
  while (!stopping) {
    uint64_t elapsed = now_ns(CLOCK_MONOTONIC) - start;
    if (elapsed >= duration_ns) break;
    uint64_t due = (uint64_t)((double)elapsed / ns_per_frame);
    if (due < sent + (uint64_t)batch) {
      /* Sleep until the batch is due (or the end of the run). */
      uint64_t wake = start + (uint64_t)((double)(sent + (uint64_t)batch) * ns_per_frame);
      if (wake > start + duration_ns) wake = start + duration_ns;
      struct timespec ts = {(time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      continue;
    }
    int n = 0;
    int with_conflict = 0;
    if (conflict_ip != NULL && elapsed >= next_conflict) {
      /* The sequence number goes into the sender MAC's last two bytes, so that every conflict the
         watch reports names the frame that caused it. */
      conflict_frame[10] = conflict_frame[26] = (uint8_t)(conflicts >> 8);
      conflict_frame[11] = conflict_frame[27] = (uint8_t)conflicts;
      iov[n].iov_base = conflict_frame;
      iov[n].iov_len = FRAME_LEN;
      n++;
      with_conflict = 1;
      next_conflict += conflict_every_ns;
    }
    while (n < batch) {
      position++;
      if (malformed_every > 0 && position % (uint64_t)malformed_every == 0) {
        int k = (int)((position / (uint64_t)malformed_every) % 3);
        iov[n].iov_base = bad[k];
        iov[n].iov_len = (size_t)bad_len[k];
        malformed_total++;
      } else {
        int k = (int)(position % POOL);
        iov[n].iov_base = pool[k];
        iov[n].iov_len = (size_t)pool_len[k];
      }
      n++;
    }
    if (with_conflict) {
      const uint8_t *m = conflict_frame + 22;
      printf("{\"type\":\"conflict\",\"seq\":%llu,\"ip\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"realtimeNs\":%llu}\n",
             (unsigned long long)conflicts, conflict_ip, m[0], m[1], m[2], m[3], m[4], m[5], (unsigned long long)now_ns(CLOCK_REALTIME));
      conflicts++;
    }
    int done = 0;
    while (done < n) {
      int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS || errno == EAGAIN) { failed += (uint64_t)(n - done); break; }
        perror("sendmmsg");
        return 1;
      }
      done += r;
    }
    sent += (uint64_t)done;
    if (with_conflict && done == 0) conflicts--;
  }
  uint64_t elapsed = now_ns(CLOCK_MONOTONIC) - start;
  printf("{\"type\":\"summary\",\"sent\":%llu,\"malformed\":%ld,\"conflicts\":%llu,\"failed\":%llu,\"elapsedNs\":%llu,\"rate\":%.0f}\n",
         (unsigned long long)sent, malformed_total, (unsigned long long)conflicts, (unsigned long long)failed,
         (unsigned long long)elapsed, (double)sent * 1e9 / (double)elapsed);
  close(fd);
  return 0;
}
