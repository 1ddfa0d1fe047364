/*
 * ipfo_netlink: add, remove and list IPv4 and IPv6 addresses through rtnetlink, without
 * spawning `ip` and without a shell. Our addresses are marked with the kernel's
 * per-address protocol field IFA_PROTO (Linux >= 6.0); Debian 12's iproute2 6.1
 * cannot set it, which is why we speak netlink ourselves.
 *
 * Written against N-API (node_api.h, plain C, NAPI_VERSION 8). N-API is
 * ABI-stable: the same compiled .node file loads in Node and in Electron
 * without a rebuild against Electron's headers.
 *
 * Every call is synchronous and opens its own NETLINK_ROUTE socket. A socket is
 * bound to the network namespace it was created in, so a fresh socket per call
 * always acts on the caller's current namespace; it also keeps the module free
 * of global state (safe in worker threads) and costs three syscalls.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef IFAPROT_UNSPEC
#define IFA_PROTO 11 /* older uapi headers: IFA_PROTO is the 12th ifa attribute */
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

/* The kernel never builds a dump skb larger than 32 KiB, so one such buffer
 * always holds a whole datagram. */
#define RECV_BUF_SIZE (32 * 1024)
/* Messages per sendmsg. The kernel handles a whole datagram inside sendmsg and
 * queues every ACK on our socket without waiting; ACKs that do not fit in the
 * receive buffer are dropped (ENOBUFS). 256 small ACKs stay far below the
 * receive buffer we ask for, so big batches go out in rounds of this size. */
#define MAX_MSGS_PER_ROUND 256
#define WANTED_RCVBUF (1024 * 1024)
/* A synchronous call blocks the JS thread; never wait for the kernel forever. */
#define RECV_TIMEOUT_SEC 5
#define EXTACK_LEN 160
#define INFINITY_LIFE_TIME 0xFFFFFFFFu

/* Upper bound of one RTM_NEWADDR/RTM_DELADDR message we build: IFA_LOCAL and IFA_ADDRESS of an IPv6
 * address, IFA_BROADCAST, the lifetimes, the mark and a label (the last two families never need both,
 * but a bound need not be tight). Only the buffer grows; each message is as long as its attributes. */
#define MAX_ADDR_MSG                                                                    \
  (NLMSG_SPACE(sizeof(struct ifaddrmsg)) + 2 * RTA_SPACE(sizeof(struct in6_addr)) +     \
   RTA_SPACE(sizeof(uint32_t)) + RTA_SPACE(sizeof(struct ifa_cacheinfo)) +              \
   RTA_SPACE(sizeof(uint8_t)) + RTA_SPACE(IFNAMSIZ))

typedef struct {
  int fd;
  uint32_t portid;
  uint32_t next_seq;
} nl_socket;

typedef struct {
  uint32_t ifindex;
  uint8_t family; /* AF_INET or AF_INET6, told by the address text */
  union {
    struct in_addr v4;
    struct in6_addr v6;
  } addr;
  uint8_t prefix;
  uint8_t proto;
  bool has_lifetimes;
  uint32_t valid_lft;
  uint32_t preferred_lft;
  bool has_label;
  char label[IFNAMSIZ];
} addr_item;

typedef struct {
  int err; /* 0 ok, negative errno, ERR_PENDING while waiting for the ACK */
  char extack[EXTACK_LEN];
} item_result;

#define ERR_PENDING 1

/* ---------- errors ---------- */

static const char *errno_code(int errnum, char *fallback, size_t len) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(errnum);
  if (name != NULL) return name;
#endif
  snprintf(fallback, len, "E%d", errnum);
  return fallback;
}

static void describe_errno(int errnum, const char *extack, const char *context, char *out,
                           size_t len) {
  char buf[128];
  const char *text = strerror_r(errnum, buf, sizeof buf); /* GNU variant returns the text */
  if (extack != NULL && extack[0] != '\0')
    snprintf(out, len, "%s: %s (%s)", context, text, extack);
  else
    snprintf(out, len, "%s: %s", context, text);
}

/* Builds an Error with .code ('EEXIST', ...) and .errno (positive number). */
static napi_value make_errno_error(napi_env env, int errnum, const char *extack,
                                   const char *context) {
  char code_buf[16], msg_buf[EXTACK_LEN + 192];
  const char *code = errno_code(errnum, code_buf, sizeof code_buf);
  describe_errno(errnum, extack, context, msg_buf, sizeof msg_buf);
  napi_value code_v, msg_v, err_v, errno_v;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v) != napi_ok ||
      napi_create_string_utf8(env, msg_buf, NAPI_AUTO_LENGTH, &msg_v) != napi_ok ||
      napi_create_error(env, code_v, msg_v, &err_v) != napi_ok ||
      napi_create_int32(env, errnum, &errno_v) != napi_ok ||
      napi_set_named_property(env, err_v, "errno", errno_v) != napi_ok)
    return NULL;
  return err_v;
}

static void throw_errno(napi_env env, int errnum, const char *extack, const char *context) {
  napi_value err = make_errno_error(env, errnum, extack, context);
  if (err != NULL) napi_throw(env, err);
}

/* ---------- socket ---------- */

static int nl_open(nl_socket *s) {
  s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s->fd < 0) return -errno;
  int one = 1;
  /* Best effort: older kernels lack these; errors just lose detail. */
  (void)setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  (void)setsockopt(s->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  int rcvbuf = WANTED_RCVBUF;
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct timeval timeout = {.tv_sec = RECV_TIMEOUT_SEC, .tv_usec = 0};
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  socklen_t local_len = sizeof local;
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
      bind(s->fd, (struct sockaddr *)&local, sizeof local) < 0 ||
      getsockname(s->fd, (struct sockaddr *)&local, &local_len) < 0) {
    int err = -errno;
    close(s->fd);
    s->fd = -1;
    return err;
  }
  s->portid = local.nl_pid;
  s->next_seq = 1;
  return 0;
}

static void nl_close(nl_socket *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static int nl_send(nl_socket *s, const void *buf, size_t len) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  for (;;) {
    ssize_t sent = sendto(s->fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) return -errno;
    return (size_t)sent == len ? 0 : -EMSGSIZE;
  }
}

/* Receives one datagram from the kernel; returns its length or a negative errno. */
static ssize_t nl_recv(nl_socket *s, void *buf, size_t len) {
  for (;;) {
    struct sockaddr_nl from;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t got = recvmsg(s->fd, &mh, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
    if (mh.msg_flags & MSG_TRUNC) return -EMSGSIZE;
    if (mh.msg_namelen != sizeof from || from.nl_pid != 0) continue; /* only the kernel talks to us */
    return got;
  }
}

/* ---------- message building ---------- */

static bool rta_put(struct nlmsghdr *h, size_t cap, uint16_t type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(h->nlmsg_len);
  if (at + RTA_SPACE(len) > cap) return false;
  struct rtattr *rta = (struct rtattr *)((char *)h + at);
  rta->rta_type = type;
  rta->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
  return true;
}

/* Writes one address message at h (MAX_ADDR_MSG bytes available). */
static void build_addr_msg(struct nlmsghdr *h, const addr_item *it, uint16_t type, uint16_t flags,
                           uint32_t seq, bool with_proto_and_lifetimes) {
  memset(h, 0, MAX_ADDR_MSG);
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  h->nlmsg_seq = seq;
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  ifa->ifa_family = it->family;
  ifa->ifa_prefixlen = it->prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = it->ifindex;
  /* Sizes below are bounded by MAX_ADDR_MSG, so rta_put cannot fail here. */
  if (it->family == AF_INET6) {
    (void)rta_put(h, MAX_ADDR_MSG, IFA_LOCAL, &it->addr.v6, sizeof it->addr.v6);
    (void)rta_put(h, MAX_ADDR_MSG, IFA_ADDRESS, &it->addr.v6, sizeof it->addr.v6);
    if (!with_proto_and_lifetimes) return;
    /* The agent probes for duplicates itself before it registers; with DAD the kernel would keep
     * the address tentative (deaf to traffic and to neighbour solicitations) for a second or more
     * after a takeover. IFA_F_NODAD fits the 8-bit header field, so no IFA_FLAGS attribute. */
    ifa->ifa_flags = IFA_F_NODAD;
    if (it->has_lifetimes) {
      struct ifa_cacheinfo ci = {.ifa_prefered = it->preferred_lft, .ifa_valid = it->valid_lft};
      (void)rta_put(h, MAX_ADDR_MSG, IFA_CACHEINFO, &ci, sizeof ci);
    }
    (void)rta_put(h, MAX_ADDR_MSG, IFA_PROTO, &it->proto, sizeof it->proto);
    return;
  }
  (void)rta_put(h, MAX_ADDR_MSG, IFA_LOCAL, &it->addr.v4.s_addr, sizeof(uint32_t));
  (void)rta_put(h, MAX_ADDR_MSG, IFA_ADDRESS, &it->addr.v4.s_addr, sizeof(uint32_t));
  if (it->has_label) (void)rta_put(h, MAX_ADDR_MSG, IFA_LABEL, it->label, strlen(it->label) + 1);
  if (!with_proto_and_lifetimes) return;
  if (it->prefix < 31) {
    uint32_t host = ntohl(it->addr.v4.s_addr);
    uint32_t mask = it->prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - it->prefix);
    uint32_t broadcast = htonl(host | ~mask);
    (void)rta_put(h, MAX_ADDR_MSG, IFA_BROADCAST, &broadcast, sizeof broadcast);
  }
  if (it->has_lifetimes) {
    struct ifa_cacheinfo ci = {.ifa_prefered = it->preferred_lft, .ifa_valid = it->valid_lft};
    (void)rta_put(h, MAX_ADDR_MSG, IFA_CACHEINFO, &ci, sizeof ci);
  }
  (void)rta_put(h, MAX_ADDR_MSG, IFA_PROTO, &it->proto, sizeof it->proto);
}

/* Copies the kernel's extended-ACK text (NLMSGERR_ATTR_MSG), if any. */
static void read_extack(const struct nlmsghdr *h, char *out, size_t out_len) {
  out[0] = '\0';
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  const struct nlmsgerr *e = NLMSG_DATA(h);
  size_t off = NLMSG_HDRLEN + sizeof *e;
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
    if (e->msg.nlmsg_len < NLMSG_HDRLEN) return;
    off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
  }
  if (off >= h->nlmsg_len) return;
  int left = (int)(h->nlmsg_len - off);
  for (const struct rtattr *a = (const void *)((const char *)h + off); RTA_OK(a, left);
       a = RTA_NEXT(a, left)) {
    if ((a->rta_type & NLA_TYPE_MASK) != NLMSGERR_ATTR_MSG) continue;
    size_t text_len = strnlen(RTA_DATA(a), RTA_PAYLOAD(a));
    if (text_len >= out_len) text_len = out_len - 1;
    memcpy(out, RTA_DATA(a), text_len);
    out[text_len] = '\0';
    /* The kernel's text often ends with a newline or period; keep it tidy. */
    while (text_len > 0 && (out[text_len - 1] == '\n' || out[text_len - 1] == ' ')) out[--text_len] = '\0';
    return;
  }
}

static void fail_pending(item_result *res, size_t n, int err) {
  for (size_t i = 0; i < n; i++)
    if (res[i].err == ERR_PENDING) res[i].err = err;
}

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Sends items in rounds of MAX_MSGS_PER_ROUND: one sendmsg carrying all the
 * round's messages, then the ACKs collected by sequence number. Every item
 * gets its own result; one failure never stops the rest of the batch.
 * not_after_ns (CLOCK_MONOTONIC, 0 = none): a round not yet sent by then is
 * not sent at all (ETIME). A lifetime runs from when the kernel sees it, so a
 * renewal decided before the process was frozen must not land after it thaws.
 */
static void run_batch(const addr_item *items, size_t n, uint16_t type, uint16_t flags,
                      bool with_proto_and_lifetimes, uint64_t not_after_ns, item_result *res) {
  for (size_t i = 0; i < n; i++) res[i].err = ERR_PENDING;
  if (n == 0) return;
  nl_socket s;
  int err = nl_open(&s);
  if (err < 0) {
    fail_pending(res, n, err);
    return;
  }
  size_t round_cap = n < MAX_MSGS_PER_ROUND ? n : MAX_MSGS_PER_ROUND;
  char *out = malloc(round_cap * MAX_ADDR_MSG);
  char *in = malloc(RECV_BUF_SIZE);
  if (out == NULL || in == NULL) {
    fail_pending(res, n, -ENOMEM);
    goto done;
  }
  for (size_t start = 0; start < n; start += round_cap) {
    size_t count = n - start < round_cap ? n - start : round_cap;
    uint32_t first_seq = s.next_seq;
    s.next_seq += (uint32_t)count;
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
      struct nlmsghdr *h = (struct nlmsghdr *)(out + len);
      build_addr_msg(h, &items[start + i], type, flags, first_seq + (uint32_t)i, with_proto_and_lifetimes);
      len += NLMSG_ALIGN(h->nlmsg_len);
    }
    item_result *round = res + start;
    if (not_after_ns != 0 && monotonic_ns() > not_after_ns) {
      fail_pending(res + start, n - start, -ETIME);
      goto done;
    }
    err = nl_send(&s, out, len);
    if (err < 0) {
      fail_pending(res + start, n - start, err);
      goto done;
    }
    size_t waiting = count;
    while (waiting > 0) {
      ssize_t got = nl_recv(&s, in, RECV_BUF_SIZE);
      if (got == -ENOBUFS) {
        /* ACKs were dropped: these items' outcome is unknown, so report it; the
         * socket itself is fine and later rounds go on. */
        fail_pending(round, count, -ENOBUFS);
        break;
      }
      if (got < 0) {
        fail_pending(round, n - start, (int)got);
        goto done;
      }
      int left = (int)got;
      for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        uint32_t idx = h->nlmsg_seq - first_seq; /* wraps to huge for stale replies */
        if (idx >= count || h->nlmsg_pid != s.portid || h->nlmsg_type != NLMSG_ERROR) continue;
        if (round[idx].err != ERR_PENDING) continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
          round[idx].err = -EBADMSG;
        } else {
          const struct nlmsgerr *e = NLMSG_DATA(h);
          round[idx].err = e->error > 0 ? -e->error : e->error;
          if (e->error != 0) read_extack(h, round[idx].extack, sizeof round[idx].extack);
        }
        waiting--;
      }
    }
  }
done:
  free(out);
  free(in);
  nl_close(&s);
}

/* ---------- JS input ---------- */

static bool throw_input(napi_env env, size_t idx, const char *field, const char *problem) {
  char msg[160];
  snprintf(msg, sizeof msg, "list[%zu] %s %s", idx, field, problem);
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
  return false;
}

/* Reads an optional integer property in [min, max]; *present tells if it was given. */
static bool read_uint(napi_env env, napi_value obj, size_t idx, const char *key, uint32_t min,
                      uint32_t max, bool required, uint32_t *out, bool *present) {
  napi_value v;
  napi_valuetype t;
  *present = false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
    return false;
  if (t == napi_undefined) return required ? throw_input(env, idx, key, "is required") : true;
  double d;
  /* Range first (also rejects NaN), so the integer cast below is defined. */
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= (double)min && d <= (double)max) ||
      d != (double)(int64_t)d) {
    char problem[80];
    snprintf(problem, sizeof problem, "must be an integer in %u..%u", min, max);
    return throw_input(env, idx, key, problem);
  }
  *out = (uint32_t)d;
  *present = true;
  return true;
}

/* Reads a string of at most cap-1 bytes into out. */
static bool read_string(napi_env env, napi_value obj, size_t idx, const char *key, bool required,
                        char *out, size_t cap, bool *present) {
  napi_value v;
  napi_valuetype t;
  *present = false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
    return false;
  if (t == napi_undefined) return required ? throw_input(env, idx, key, "is required") : true;
  size_t len;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
    return throw_input(env, idx, key, "must be a string");
  if (len == 0 || len >= cap) return throw_input(env, idx, key, "has a bad length");
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return false;
  *present = true;
  return true;
}

static bool read_item(napi_env env, napi_value obj, size_t idx, bool for_add, addr_item *it) {
  napi_valuetype t;
  if (napi_typeof(env, obj, &t) != napi_ok) return false;
  if (t != napi_object) return throw_input(env, idx, "item", "must be an object");
  uint32_t v;
  bool present;
  char text[INET6_ADDRSTRLEN];
  memset(it, 0, sizeof *it);
  if (!read_uint(env, obj, idx, "ifindex", 1, INT32_MAX, true, &it->ifindex, &present)) return false;
  if (!read_string(env, obj, idx, "address", true, text, sizeof text, &present)) return false;
  /* The text tells the family, as in the registrar: a ':' only ever appears in IPv6 text. */
  if (strchr(text, ':') == NULL) {
    it->family = AF_INET;
    if (inet_pton(AF_INET, text, &it->addr.v4) != 1) return throw_input(env, idx, "address", "is not a dotted quad");
  } else {
    it->family = AF_INET6;
    if (inet_pton(AF_INET6, text, &it->addr.v6) != 1) return throw_input(env, idx, "address", "is not an IPv6 address");
  }
  if (!read_uint(env, obj, idx, "prefix", 0, it->family == AF_INET6 ? 128 : 32, true, &v, &present)) return false;
  it->prefix = (uint8_t)v;
  if (!read_string(env, obj, idx, "label", false, it->label, sizeof it->label, &it->has_label)) return false;
  /* IPv6 has no address labels: the kernel would ignore one, and a caller must not believe it was set. */
  if (it->has_label && it->family == AF_INET6) return throw_input(env, idx, "label", "is for IPv4 addresses only");
  if (!for_add) return true;
  if (!read_uint(env, obj, idx, "proto", 0, 255, true, &v, &present)) return false;
  it->proto = (uint8_t)v;
  bool has_valid, has_preferred;
  uint32_t valid = INFINITY_LIFE_TIME, preferred = INFINITY_LIFE_TIME;
  if (!read_uint(env, obj, idx, "validLft", 1, INFINITY_LIFE_TIME - 1, false, &valid, &has_valid) ||
      !read_uint(env, obj, idx, "preferredLft", 0, INFINITY_LIFE_TIME - 1, false, &preferred, &has_preferred))
    return false;
  if (has_valid && !has_preferred) preferred = valid;
  if (has_valid && has_preferred && preferred > valid)
    return throw_input(env, idx, "preferredLft", "must not exceed validLft");
  it->has_lifetimes = has_valid || has_preferred;
  it->valid_lft = has_valid ? valid : INFINITY_LIFE_TIME;
  it->preferred_lft = preferred;
  return true;
}

/* Reads the optional deadline args[1]: a bigint of CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint()). */
static bool read_not_after(napi_env env, size_t argc, napi_value *argv, uint64_t *out) {
  *out = 0;
  napi_valuetype t = napi_undefined;
  if (argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok || t == napi_undefined) return true;
  bool lossless = false;
  if (t != napi_bigint || napi_get_value_bigint_uint64(env, argv[1], out, &lossless) != napi_ok || !lossless ||
      *out == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "notAfterNs must be a positive bigint (process.hrtime.bigint())");
    return false;
  }
  return true;
}

/* Parses args[0] (an array) into a malloc'd item array and args[1] (the optional deadline); NULL with a pending exception on error. */
static addr_item *read_items(napi_env env, napi_callback_info info, bool for_add, size_t *count, uint64_t *not_after_ns) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_array = false;
  uint32_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of addresses");
    return NULL;
  }
  if (!read_not_after(env, argc, argv, not_after_ns)) return NULL;
  addr_item *items = calloc(len ? len : 1, sizeof *items);
  if (items == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < len; i++) {
    napi_value el;
    if (napi_get_element(env, argv[0], i, &el) != napi_ok || !read_item(env, el, i, for_add, &items[i])) {
      free(items);
      return NULL;
    }
  }
  *count = len;
  return items;
}

/* ---------- JS output ---------- */

static napi_value results_to_js(napi_env env, const item_result *res, size_t n, const char *verb) {
  napi_value arr, t, f;
  if (napi_create_array_with_length(env, n, &arr) != napi_ok || napi_get_boolean(env, true, &t) != napi_ok ||
      napi_get_boolean(env, false, &f) != napi_ok)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    napi_value obj;
    if (napi_create_object(env, &obj) != napi_ok) return NULL;
    if (res[i].err == 0) {
      if (napi_set_named_property(env, obj, "ok", t) != napi_ok) return NULL;
    } else {
      int errnum = -res[i].err;
      char code_buf[16], msg[EXTACK_LEN + 192];
      if (errnum == ETIME)
        snprintf(msg, sizeof msg, "%s: not sent: its deadline had passed (the process was held up between deciding and sending)", verb);
      else
        describe_errno(errnum, res[i].extack, verb, msg, sizeof msg);
      napi_value code_v, msg_v, errno_v;
      if (napi_create_string_utf8(env, errno_code(errnum, code_buf, sizeof code_buf), NAPI_AUTO_LENGTH,
                                  &code_v) != napi_ok ||
          napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v) != napi_ok ||
          napi_create_int32(env, errnum, &errno_v) != napi_ok ||
          napi_set_named_property(env, obj, "ok", f) != napi_ok ||
          napi_set_named_property(env, obj, "code", code_v) != napi_ok ||
          napi_set_named_property(env, obj, "errno", errno_v) != napi_ok ||
          napi_set_named_property(env, obj, "message", msg_v) != napi_ok)
        return NULL;
    }
    if (napi_set_element(env, arr, (uint32_t)i, obj) != napi_ok) return NULL;
  }
  return arr;
}

static napi_value batch_call(napi_env env, napi_callback_info info, bool is_add) {
  size_t n = 0;
  uint64_t not_after_ns = 0;
  addr_item *items = read_items(env, info, is_add, &n, &not_after_ns);
  if (items == NULL) return NULL;
  if (!is_add && not_after_ns != 0) {
    free(items);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "removals take no deadline: a late removal is still wanted");
    return NULL;
  }
  item_result *res = calloc(n ? n : 1, sizeof *res);
  if (res == NULL) {
    free(items);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (is_add) {
    /* REPLACE makes a repeat idempotent and renews lifetimes and the proto mark. */
    run_batch(items, n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, true, not_after_ns, res);
  } else {
    run_batch(items, n, RTM_DELADDR, 0, false, 0, res);
    for (size_t i = 0; i < n; i++)
      if (res[i].err == -EADDRNOTAVAIL) res[i].err = 0; /* already gone: removal is idempotent */
  }
  napi_value out = results_to_js(env, res, n, is_add ? "add address" : "remove address");
  free(res);
  free(items);
  return out;
}

static napi_value add_addresses(napi_env env, napi_callback_info info) { return batch_call(env, info, true); }
static napi_value remove_addresses(napi_env env, napi_callback_info info) { return batch_call(env, info, false); }

/* ---------- dump ---------- */

static bool set_u32(napi_env env, napi_value obj, const char *key, uint32_t value) {
  napi_value v;
  return napi_create_uint32(env, value, &v) == napi_ok && napi_set_named_property(env, obj, key, v) == napi_ok;
}

static bool set_lifetime(napi_env env, napi_value obj, const char *key, uint32_t value) {
  napi_value v;
  if (value == INFINITY_LIFE_TIME) {
    if (napi_get_null(env, &v) != napi_ok) return false; /* null = forever */
  } else if (napi_create_uint32(env, value, &v) != napi_ok) {
    return false;
  }
  return napi_set_named_property(env, obj, key, v) == napi_ok;
}

/* One address of either family, as the kernel spells it (network order, 4 or 16 bytes). */
typedef struct {
  uint8_t family;
  uint8_t bytes[16];
} filter_address;

/* Only these addresses are converted, when count > 0: a caller that needs one address of an
 * interface holding 1,000 does not pay for 1,000 JavaScript objects. */
typedef struct {
  const filter_address *addresses;
  size_t count;
} addr_filter;

static bool filter_keeps(const addr_filter *filter, uint8_t family, const void *address) {
  if (filter == NULL || filter->count == 0) return true;
  size_t len = family == AF_INET6 ? 16 : 4;
  for (size_t i = 0; i < filter->count; i++)
    if (filter->addresses[i].family == family && memcmp(filter->addresses[i].bytes, address, len) == 0) return true;
  return false;
}

/* Converts one RTM_NEWADDR dump entry; *obj stays NULL when it is filtered out. */
static bool addr_to_js(napi_env env, const struct nlmsghdr *h, uint32_t ifindex_filter, const addr_filter *filter, napi_value *obj) {
  *obj = NULL;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg))) return true;
  const struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) || (ifindex_filter != 0 && ifa->ifa_index != ifindex_filter))
    return true;
  size_t addr_len = ifa->ifa_family == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);
  const void *local = NULL, *address = NULL;
  const uint32_t *flags = NULL;
  const struct ifa_cacheinfo *ci = NULL;
  const char *label = NULL;
  size_t label_len = 0;
  uint8_t proto = 0;
  int left = (int)IFA_PAYLOAD(h);
  for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    size_t plen = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case IFA_LOCAL: if (plen >= addr_len) local = RTA_DATA(a); break;
      case IFA_ADDRESS: if (plen >= addr_len) address = RTA_DATA(a); break;
      case IFA_FLAGS: if (plen >= 4) flags = RTA_DATA(a); break;
      case IFA_CACHEINFO: if (plen >= sizeof *ci) ci = RTA_DATA(a); break;
      case IFA_PROTO: if (plen >= 1) proto = *(const uint8_t *)RTA_DATA(a); break;
      case IFA_LABEL: label = RTA_DATA(a); label_len = strnlen(label, plen); break;
      default: break;
    }
  }
  /* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
  const void *ours = local != NULL ? local : address;
  if (ours == NULL) return true;
  if (!filter_keeps(filter, ifa->ifa_family, ours)) return true;
  /* glibc's IPv6 text is not always RFC 5952 (it dots IPv4-compatible addresses); the JS side
   * makes it canonical. */
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(ifa->ifa_family, ours, text, sizeof text) == NULL) return true;
  napi_value o, addr_v, label_v;
  if (napi_create_object(env, &o) != napi_ok || napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &addr_v) != napi_ok ||
      napi_create_string_utf8(env, label != NULL ? label : "", label != NULL ? label_len : 0, &label_v) != napi_ok ||
      !set_u32(env, o, "ifindex", ifa->ifa_index) || napi_set_named_property(env, o, "address", addr_v) != napi_ok ||
      !set_u32(env, o, "prefix", ifa->ifa_prefixlen) || !set_u32(env, o, "proto", proto) ||
      napi_set_named_property(env, o, "label", label_v) != napi_ok ||
      !set_lifetime(env, o, "validLft", ci != NULL ? ci->ifa_valid : INFINITY_LIFE_TIME) ||
      !set_lifetime(env, o, "preferredLft", ci != NULL ? ci->ifa_prefered : INFINITY_LIFE_TIME) ||
      !set_u32(env, o, "flags", flags != NULL ? *flags : ifa->ifa_flags))
    return false;
  *obj = o;
  return true;
}

enum { DUMP_DONE, DUMP_INTERRUPTED, DUMP_FAILED };

/* One RTM_GETADDR dump of one family, appended to arr at *count. Sets *err (negative errno) + extack on kernel errors. */
static int dump_once(napi_env env, nl_socket *s, char *in, uint8_t family, uint32_t ifindex, const addr_filter *filter, napi_value arr,
                     uint32_t *count, int *err, char *extack) {
  struct {
    struct nlmsghdr h;
    struct ifaddrmsg ifa;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
  req.h.nlmsg_type = RTM_GETADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = s->next_seq++;
  req.ifa.ifa_family = family;
  req.ifa.ifa_index = ifindex; /* honoured by the kernel thanks to NETLINK_GET_STRICT_CHK */
  bool interrupted = false;
  if ((*err = nl_send(s, &req, req.h.nlmsg_len)) < 0) return DUMP_FAILED;
  for (;;) {
    ssize_t got = nl_recv(s, in, RECV_BUF_SIZE);
    if (got < 0) {
      *err = (int)got;
      return DUMP_FAILED;
    }
    int left = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != req.h.nlmsg_seq || h->nlmsg_pid != s->portid) continue;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (h->nlmsg_type == NLMSG_DONE) {
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *(const int *)NLMSG_DATA(h) < 0) {
          *err = *(const int *)NLMSG_DATA(h);
          return DUMP_FAILED;
        }
        return interrupted ? DUMP_INTERRUPTED : DUMP_DONE;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        *err = h->nlmsg_len < NLMSG_LENGTH(sizeof *e) ? -EBADMSG : (e->error > 0 ? -e->error : e->error);
        if (*err == 0) continue;
        read_extack(h, extack, EXTACK_LEN);
        return DUMP_FAILED;
      }
      if (h->nlmsg_type != RTM_NEWADDR) continue;
      napi_value obj;
      if (!addr_to_js(env, h, ifindex, filter, &obj)) return DUMP_FAILED;
      if (obj != NULL && napi_set_element(env, arr, (*count)++, obj) != napi_ok) return DUMP_FAILED;
    }
  }
}

#define MAX_FILTER_ADDRESSES 256

/* One dump per family asked for, IPv4 first, into a fresh array; DUMP_INTERRUPTED if either raced with a change. */
static int dump_families(napi_env env, nl_socket *s, char *in, uint32_t families, uint32_t ifindex, const addr_filter *filter,
                         napi_value *arr, int *err, char *extack) {
  uint32_t count = 0;
  bool interrupted = false;
  if (napi_create_array(env, arr) != napi_ok) return DUMP_FAILED;
  static const uint8_t order[] = {AF_INET, AF_INET6};
  for (size_t i = 0; i < sizeof order; i++) {
    if (!(families == 0 || (families == 4 && order[i] == AF_INET) || (families == 6 && order[i] == AF_INET6))) continue;
    int outcome = dump_once(env, s, in, order[i], ifindex, filter, *arr, &count, err, extack);
    if (outcome == DUMP_FAILED) return DUMP_FAILED;
    if (outcome == DUMP_INTERRUPTED) interrupted = true;
  }
  return interrupted ? DUMP_INTERRUPTED : DUMP_DONE;
}

/* listAddresses(ifindex[, onlyAddresses[, family]]): every address of the family (4, 6, or 0 for both;
 * 4 when left out, as before IPv6) of one interface (0 = all), or only those whose address is one of
 * onlyAddresses (at most MAX_FILTER_ADDRESSES, either family). */
static napi_value list_addresses(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_valuetype t = napi_undefined;
  double d = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc >= 1 && napi_typeof(env, argv[0], &t) != napi_ok) return NULL;
  if (t != napi_number || napi_get_value_double(env, argv[0], &d) != napi_ok || !(d >= 0 && d <= INT32_MAX) ||
      d != (double)(int64_t)d) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "ifindex must be an integer >= 0 (0 = all interfaces)");
    return NULL;
  }
  filter_address only[MAX_FILTER_ADDRESSES];
  addr_filter filter = {only, 0};
  napi_valuetype t2 = napi_undefined;
  if (argc >= 2 && napi_typeof(env, argv[1], &t2) != napi_ok) return NULL;
  if (t2 != napi_undefined) {
    bool is_array = false;
    uint32_t length = 0;
    if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &length) != napi_ok ||
        length == 0 || length > MAX_FILTER_ADDRESSES) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "onlyAddresses must be an array of 1 to 256 IPv4 or IPv6 addresses");
      return NULL;
    }
    for (uint32_t i = 0; i < length; i++) {
      napi_value item;
      char text[INET6_ADDRSTRLEN + 1];
      size_t text_len = 0;
      if (napi_get_element(env, argv[1], i, &item) != napi_ok ||
          napi_get_value_string_utf8(env, item, text, sizeof text, &text_len) != napi_ok || text_len >= INET6_ADDRSTRLEN) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "onlyAddresses must hold IPv4 or IPv6 addresses");
        return NULL;
      }
      only[i].family = strchr(text, ':') == NULL ? AF_INET : AF_INET6;
      if (inet_pton(only[i].family, text, only[i].bytes) != 1) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "onlyAddresses must hold IPv4 or IPv6 addresses");
        return NULL;
      }
    }
    filter.count = length;
  }
  uint32_t families = 4;
  napi_valuetype t3 = napi_undefined;
  if (argc >= 3 && napi_typeof(env, argv[2], &t3) != napi_ok) return NULL;
  if (t3 != napi_undefined) {
    double asked = -1;
    if (t3 != napi_number || napi_get_value_double(env, argv[2], &asked) != napi_ok || (asked != 0 && asked != 4 && asked != 6)) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "family must be 4, 6 or 0 (both)");
      return NULL;
    }
    families = (uint32_t)asked;
  }
  nl_socket s;
  int err = nl_open(&s);
  if (err < 0) {
    throw_errno(env, -err, NULL, "list addresses: netlink socket");
    return NULL;
  }
  char *in = malloc(RECV_BUF_SIZE);
  char extack[EXTACK_LEN] = "";
  napi_value arr = NULL;
  int outcome = DUMP_FAILED;
  err = -ENOMEM;
  /* A dump that raced with a change is flagged NLM_F_DUMP_INTR; take a fresh one. */
  for (int attempt = 0; in != NULL && attempt < 5; attempt++) {
    err = 0;
    outcome = dump_families(env, &s, in, families, (uint32_t)d, &filter, &arr, &err, extack);
    if (outcome != DUMP_INTERRUPTED) break;
  }
  free(in);
  nl_close(&s);
  if (outcome == DUMP_INTERRUPTED) err = -EAGAIN;
  if (outcome != DUMP_DONE) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throw_errno(env, err < 0 ? -err : EIO, extack, "list addresses");
    return NULL;
  }
  return arr;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  const napi_property_descriptor props[] = {
      {"addAddresses", NULL, add_addresses, NULL, NULL, NULL, napi_enumerable, NULL},
      {"removeAddresses", NULL, remove_addresses, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listAddresses", NULL, list_addresses, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
