// Bench helper: the kernel capture counters of ANOTHER process's packet socket, the ones libpcap's
// pcap_stats() would report for it (PACKET_STATISTICS: frames that passed the socket's filter, frames
// dropped because its ring or queue was full). The bench uses it for arpwatch, which never prints them.
//   watch-socket-stats <pid> <fd>   ->  {"packets":N,"drops":N}
// The fd is duplicated with pidfd_getfd (Linux >= 5.6, needs ptrace rights over <pid>: root in the lab);
// the copy refers to the same socket. The kernel resets the counters on every read, as with libpcap: read
// once before a measurement window (and ignore), once after. arpwatch never reads them itself.
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: watch-socket-stats <pid> <fd>\n");
    return 2;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[1]), 0);
  if (pidfd < 0) { perror("pidfd_open"); return 1; }
  int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(argv[2]), 0);
  if (fd < 0) { perror("pidfd_getfd"); return 1; }
  struct tpacket_stats_v3 st;
  memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) { perror("getsockopt PACKET_STATISTICS"); return 1; }
  printf("{\"packets\":%u,\"drops\":%u}\n", st.tp_packets, st.tp_drops);
  return 0;
}
