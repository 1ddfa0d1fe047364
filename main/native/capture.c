/*
 * ipfo_capture: packet capture for the ARP watch, and the kernel counters `cap` does not expose.
 *
 * Why not `cap` for the watch: `cap` fixes libpcap's snaplen at 65535 and turns on immediate mode,
 * so libpcap uses a TPACKET_V2 ring of fixed 64 KiB slots, one per 128 KiB block with offloads on
 * (veth, most NICs): a 32 MiB buffer holds ~256 frames, 2.5 ms of a 100,000 frames/s ARP flood,
 * and costs 64 MiB of kernel memory. It also calls into JavaScript once per frame. Here libpcap is
 * opened with a snaplen of 128 (an ARP frame is 60-64 bytes), so a slot is ~230 bytes and a 16 MiB
 * buffer (the watch's) holds ~70,000 frames, and frames reach JavaScript in batches: one call per up to `slots`
 * frames, copied into a Buffer the caller owns (slot i at i * SLOT_BYTES, its length in lengths[i]).
 * Immediate mode is kept, so a lone frame is delivered at once.
 *
 *   open(dev, filter, bufferBytes, data: Buffer, lengths: Int32Array, onBatch(count[, reason])) -> handle
 *       (count -1: the capture failed for good, e.g. the interface went down or away; reason says why)
 *   handle.stats()  -> [ps_recv, ps_drop, ps_ifdrop]    (pcap_stats)
 *   handle.close()
 *   packetStatistics(fd) -> [packets, drops]             (getsockopt PACKET_STATISTICS on a packet
 *       socket of this process, e.g. the one `cap` opened: what pcap_stats() would read; resets)
 *
 * N-API (plain C, NAPI_VERSION 8) plus libuv's poll on libpcap's selectable fd, on the main loop.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SNAPLEN 128
#define SLOT_BYTES 128
/* Batches per poll wake-up before yielding to the event loop (the poll is level-triggered). */
#define MAX_ROUNDS 64

typedef struct {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t poll;
  bool polling;
  bool closing;
  bool poll_closed;
  /* Inside napi_make_callback: a close() from JavaScript must not destroy the async context in use. */
  bool in_callback;
  bool release_pending;
  napi_ref self;      /* weak: the JS handle object */
  napi_ref on_batch;  /* strong */
  napi_ref data_ref;  /* strong: keeps the buffers alive while libpcap writes into them */
  napi_ref lengths_ref;
  napi_async_context async_context;
  uint8_t *data;
  size_t slots;
  int32_t *lengths;
  size_t count;
} capture_t;

static napi_value throw_message(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes) {
  capture_t *c = (capture_t *)user;
  if (c->count >= c->slots) return; /* cannot happen: dispatch is bounded by the free slots */
  size_t len = header->caplen < SLOT_BYTES ? header->caplen : SLOT_BYTES;
  memcpy(c->data + c->count * SLOT_BYTES, bytes, len);
  c->lengths[c->count] = (int32_t)len;
  c->count++;
}

static void release(capture_t *c) {
  if (c->in_callback) {
    c->release_pending = true;
    return;
  }
  napi_env env = c->env;
  if (c->on_batch) napi_delete_reference(env, c->on_batch);
  if (c->data_ref) napi_delete_reference(env, c->data_ref);
  if (c->lengths_ref) napi_delete_reference(env, c->lengths_ref);
  if (c->async_context) napi_async_destroy(env, c->async_context);
  c->on_batch = c->data_ref = c->lengths_ref = NULL;
  c->async_context = NULL;
}

static void on_poll_closed(uv_handle_t *handle) {
  capture_t *c = (capture_t *)handle->data;
  c->poll_closed = true;
  if (c->pcap) pcap_close(c->pcap);
  c->pcap = NULL;
  /* Freed by whichever comes last: this, or the JS handle's finalizer. */
  if (c->self == NULL) free(c);
}

static void stop(capture_t *c) {
  if (c->closing) return;
  c->closing = true;
  release(c);
  if (c->polling) {
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
  } else if (c->pcap) {
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
}

/*
 * onBatch(count) with a batch, or onBatch(-1, reason) when the capture failed. JavaScript may close the
 * handle from inside the call: the async context in use is released only after it returns.
 */
static void call_on_batch(capture_t *c, int32_t count, const char *reason) {
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self, callback, argv[2], result;
  size_t argc = reason == NULL ? 1 : 2;
  if (napi_get_reference_value(env, c->self, &self) == napi_ok && self != NULL &&
      napi_get_reference_value(env, c->on_batch, &callback) == napi_ok &&
      napi_create_int32(env, count, &argv[0]) == napi_ok &&
      (reason == NULL || napi_create_string_utf8(env, reason, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok)) {
    c->in_callback = true;
    napi_status status = napi_make_callback(env, c->async_context, self, callback, argc, argv, &result);
    c->in_callback = false;
    if (status == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
  if (c->release_pending) {
    c->release_pending = false;
    release(c);
  }
}

static void deliver(capture_t *c) {
  call_on_batch(c, (int32_t)c->count, NULL);
}

/*
 * The capture failed for good (the interface set down, deleted, moved away): libuv has already stopped the
 * poll when it reports an error, and a failed pcap_dispatch fails again. Stop polling and tell JavaScript
 * with onBatch(-1, reason); it closes this handle and opens a new one when the interface is back.
 */
static void deliver_error(capture_t *c, const char *reason) {
  if (c->polling) uv_poll_stop(&c->poll);
  call_on_batch(c, -1, reason);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  capture_t *c = (capture_t *)handle->data;
  if (c->closing) return;
  if (status < 0) {
    char reason[160];
    /* libuv reports the socket's POLLERR as EBADF; the kernel's reason is the interface's state. */
    snprintf(reason, sizeof reason, "the capture socket reported an error (%s): interface down, deleted or moved?", uv_strerror(status));
    deliver_error(c, reason);
    return;
  }
  if (!(events & UV_READABLE)) return;
  for (int round = 0; round < MAX_ROUNDS && !c->closing; round++) {
    c->count = 0;
    int n = pcap_dispatch(c->pcap, (int)c->slots, on_packet, (u_char *)c);
    if (c->count > 0) deliver(c);
    if (c->closing) return;
    if (n < 0 && n != PCAP_ERROR_BREAK) {
      char reason[PCAP_ERRBUF_SIZE + 32];
      snprintf(reason, sizeof reason, "capture failed: %s", pcap_geterr(c->pcap));
      deliver_error(c, reason);
      return;
    }
    if (n < (int)c->slots) break; /* ring empty (0) or a short batch */
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  capture_t *c = (capture_t *)data;
  napi_delete_reference(env, c->self);
  c->self = NULL;
  stop(c);
  /* With a poll handle closing, on_poll_closed frees the struct. */
  if (!c->polling || c->poll_closed) free(c);
}

static capture_t *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    throw_message(env, "EINVAL", "not a capture handle");
    return NULL;
  }
  return (capture_t *)data;
}

static napi_value capture_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture_t *c = unwrap_this(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  if (c->closing || c->pcap == NULL) return throw_message(env, "ECLOSED", "capture is closed");
  struct pcap_stat st;
  if (pcap_stats(c->pcap, &st) != 0) return throw_message(env, "ESTATS", pcap_geterr(c->pcap));
  napi_value result, value;
  napi_create_array_with_length(env, 3, &result);
  napi_create_uint32(env, st.ps_recv, &value);
  napi_set_element(env, result, 0, value);
  napi_create_uint32(env, st.ps_drop, &value);
  napi_set_element(env, result, 1, value);
  napi_create_uint32(env, st.ps_ifdrop, &value);
  napi_set_element(env, result, 2, value);
  return result;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture_t *c = unwrap_this(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  stop(c);
  return NULL;
}

static bool get_string(napi_env env, napi_value value, char *out, size_t size) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, value, out, size, &len) == napi_ok && len < size - 1;
}

static napi_value capture_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 6) return throw_message(env, "EINVAL", "open(dev, filter, bufferBytes, data, lengths, onBatch)");
  char dev[64], filter[1024];
  if (!get_string(env, argv[0], dev, sizeof dev)) return throw_message(env, "EINVAL", "dev must be a short string");
  if (!get_string(env, argv[1], filter, sizeof filter)) return throw_message(env, "EINVAL", "filter must be a string under 1 KiB");
  int32_t buffer_bytes = 0;
  if (napi_get_value_int32(env, argv[2], &buffer_bytes) != napi_ok || buffer_bytes <= 0) return throw_message(env, "EINVAL", "bufferBytes must be a positive integer");
  void *data = NULL;
  size_t data_len = 0;
  if (napi_get_buffer_info(env, argv[3], &data, &data_len) != napi_ok) return throw_message(env, "EINVAL", "data must be a Buffer");
  napi_typedarray_type type;
  size_t lengths_len = 0;
  void *lengths = NULL;
  if (napi_get_typedarray_info(env, argv[4], &type, &lengths_len, &lengths, NULL, NULL) != napi_ok || type != napi_int32_array) {
    return throw_message(env, "EINVAL", "lengths must be an Int32Array");
  }
  size_t slots = data_len / SLOT_BYTES;
  if (lengths_len < slots) slots = lengths_len;
  if (slots == 0) return throw_message(env, "EINVAL", "data must hold at least one 128-byte slot");
  napi_valuetype cb_type;
  if (napi_typeof(env, argv[5], &cb_type) != napi_ok || cb_type != napi_function) return throw_message(env, "EINVAL", "onBatch must be a function");

  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = '\0';
  pcap_t *p = pcap_create(dev, errbuf);
  if (p == NULL) return throw_message(env, "EOPEN", errbuf);
  char message[PCAP_ERRBUF_SIZE + 64];
  int rc;
  if (pcap_set_snaplen(p, SNAPLEN) != 0 || pcap_set_promisc(p, 1) != 0 || pcap_set_timeout(p, 1000) != 0 ||
      pcap_set_immediate_mode(p, 1) != 0 || pcap_set_buffer_size(p, buffer_bytes) != 0) {
    pcap_close(p);
    return throw_message(env, "EOPEN", "cannot set capture options");
  }
  rc = pcap_activate(p);
  if (rc < 0) {
    snprintf(message, sizeof message, "%s", rc == PCAP_ERROR_PERM_DENIED ? "Operation not permitted (pcap_activate)" :
             rc == PCAP_ERROR_NO_SUCH_DEVICE ? "No such device exists" : pcap_geterr(p));
    pcap_close(p);
    return throw_message(env, "EOPEN", message);
  }
  struct bpf_program program;
  if (pcap_setnonblock(p, 1, errbuf) != 0 || pcap_compile(p, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(message, sizeof message, "%s", errbuf[0] ? errbuf : pcap_geterr(p));
    pcap_close(p);
    return throw_message(env, "EOPEN", message);
  }
  rc = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (rc != 0) {
    snprintf(message, sizeof message, "%s", pcap_geterr(p));
    pcap_close(p);
    return throw_message(env, "EOPEN", message);
  }
  int fd = pcap_get_selectable_fd(p);
  uv_loop_t *loop = NULL;
  if (fd < 0 || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    pcap_close(p);
    return throw_message(env, "EOPEN", "no selectable fd or event loop");
  }

  capture_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    pcap_close(p);
    return throw_message(env, "ENOMEM", "out of memory");
  }
  c->env = env;
  c->pcap = p;
  c->data = (uint8_t *)data;
  c->lengths = (int32_t *)lengths;
  c->slots = slots;
  napi_value self, name;
  napi_create_object(env, &self);
  napi_create_string_utf8(env, "ipfo:capture", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[5], 1, &c->on_batch);
  napi_create_reference(env, argv[3], 1, &c->data_ref);
  napi_create_reference(env, argv[4], 1, &c->lengths_ref);
  napi_async_init(env, self, name, &c->async_context);
  const napi_property_descriptor props[] = {
      {"stats", NULL, capture_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, self, 2, props);
  if (napi_wrap(env, self, c, finalize, NULL, &c->self) != napi_ok) {
    release(c);
    pcap_close(p);
    free(c);
    return throw_message(env, "EOPEN", "cannot wrap the capture");
  }
  c->poll.data = c;
  if (uv_poll_init(loop, &c->poll, fd) != 0 || uv_poll_start(&c->poll, UV_READABLE, on_readable) != 0) {
    stop(c);
    return throw_message(env, "EOPEN", "cannot poll the capture");
  }
  c->polling = true;
  return self;
}

static napi_value packet_statistics(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "packetStatistics(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct tpacket_stats_v3 st; /* big enough for either version; the kernel copies what fits */
  memset(&st, 0, sizeof st);
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    char message[96];
    snprintf(message, sizeof message, "PACKET_STATISTICS: %s", strerror(errno));
    return throw_message(env, "ESTATS", message);
  }
  napi_value result, value;
  napi_create_array_with_length(env, 2, &result);
  napi_create_uint32(env, st.tp_packets, &value);
  napi_set_element(env, result, 0, value);
  napi_create_uint32(env, st.tp_drops, &value);
  napi_set_element(env, result, 1, value);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value slot;
  napi_create_uint32(env, SLOT_BYTES, &slot);
  const napi_property_descriptor props[] = {
      {"open", NULL, capture_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetStatistics", NULL, packet_statistics, NULL, NULL, NULL, napi_enumerable, NULL},
      {"SLOT_BYTES", NULL, NULL, NULL, NULL, slot, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
