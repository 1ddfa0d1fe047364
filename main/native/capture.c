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
 * Two options make a storm cheap for the watch (off for captures that need every frame at once, such as
 * the standby's probe answers):
 *   foldRepeats   an ARP request or reply (not a probe, announcement or gratuitous reply) whose sender
 *                 address (per VLAN) was last delivered with the same sender MAC changes nothing in the
 *                 watch's binding table but its counters: it is folded into one summary slot per sender
 *                 (lengths[i] = -frame length; its request and reply counts as little-endian u32 at bytes
 *                 64 and 68 of the slot), handed over at most FOLD_FLUSH_MS after the first frame it
 *                 folds — and always before the next frame delivered for the same sender, so per sender
 *                 the order is kept (see fold.h).
 *   pauseMs       after a wake-up that drained a burst (PAUSE_AFTER_FRAMES or more), stop polling for
 *                 pauseMs: in a storm the process wakes about 1000 / pauseMs times a second instead of
 *                 once per handful of frames, while a quiet LAN's lone frame is still delivered at once.
 *
 *   open(dev, filter, bufferBytes, data: Buffer, lengths: Int32Array, onBatch(count[, reason])[, foldRepeats, pauseMs]) -> handle
 *       (count -1: the capture failed for good, e.g. the interface went down or away; reason says why)
 *   handle.stats()  -> [ps_recv, ps_drop, ps_ifdrop]    (pcap_stats)
 *   handle.flush()  -> count: the folded frames not yet due, put into the slots now for the caller to read
 *                      (0 inside onBatch, whose slots are being read)
 *   handle.send(buffer, length)   one frame out on the interface (pcap_inject): the agent's claims send
 *                      their ARP through the capture that hears the LAN, as `cap` did
 *   handle.unfold(senders: Uint32Array)   IPv4 senders (host byte order, sorted, unique) never folded: the
 *                      addresses the agent's claims hold or probe and its watchers listen to (fold.h)
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

#include "fold.h"

#define SNAPLEN 128
#define SLOT_BYTES 128
/* Batches per poll wake-up before yielding to the event loop (the poll is level-triggered). */
#define MAX_ROUNDS 64
/* A wake-up that drained this many frames is a burst: with pauseMs set, the poll rests before the next. */
#define PAUSE_AFTER_FRAMES 4
#define MAX_PAUSE_MS 100
/* Folded frames are handed over at most this late (a storm's senders then cost JavaScript ~100 calls a second each, not one per batch). */
#define FOLD_FLUSH_MS 25

typedef struct {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t poll;
  uv_timer_t timer; /* the end of a pause, or the flush of folded frames that are due */
  bool polling;
  bool paused;
  bool closing;
  /* libuv handles still to be closed (poll, timer): the struct is freed after the last, and the JS handle's finalizer. */
  int open_handles;
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
  fold_t *fold;  /* NULL unless foldRepeats */
  uint64_t pending_since; /* uv_now when the oldest pending summary began; 0: none pending */
  uint64_t pause_ms;
} capture_t;

static napi_value throw_message(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/* A fold summary into the next slot: its representative frame, then the counts (little-endian u32). */
static void put_summary(capture_t *c, const fold_summary_t *summary) {
  if (c->count >= c->slots) return; /* cannot happen: dispatch is bounded by the free slots */
  uint8_t *slot = c->data + c->count * SLOT_BYTES;
  memcpy(slot, summary->frame, summary->length);
  fold_put_u32le(slot + FOLD_REQUESTS_AT, summary->requests);
  fold_put_u32le(slot + FOLD_REPLIES_AT, summary->replies);
  c->lengths[c->count] = -(int32_t)summary->length;
  c->count++;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes) {
  capture_t *c = (capture_t *)user;
  if (c->count >= c->slots) return; /* cannot happen: dispatch is bounded by the free slots */
  size_t len = header->caplen < SLOT_BYTES ? header->caplen : SLOT_BYTES;
  if (c->fold != NULL) {
    fold_summary_t before;
    fold_verdict_t verdict = fold_frame(c->fold, bytes, header->caplen, &before);
    if (verdict == FOLD_FOLDED) return;
    if (verdict == FOLD_DELIVER_AFTER_SUMMARY) put_summary(c, &before);
  }
  memcpy(c->data + c->count * SLOT_BYTES, bytes, len);
  c->lengths[c->count] = (int32_t)len;
  c->count++;
}

/* Every pending summary into the batch, oldest first. */
static void flush_summaries(capture_t *c) {
  if (c->fold == NULL) return;
  fold_summary_t summary;
  while (fold_take_pending(c->fold, &summary)) put_summary(c, &summary);
  c->pending_since = 0;
}

static size_t pending_summaries(const capture_t *c) { return c->fold != NULL ? fold_pending_count(c->fold) : 0; }

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
  fold_free(c->fold);
  c->fold = NULL;
}

static void on_handle_closed(uv_handle_t *handle) {
  capture_t *c = (capture_t *)handle->data;
  if (--c->open_handles > 0) return;
  if (c->pcap) pcap_close(c->pcap);
  c->pcap = NULL;
  /* Freed by whichever comes last: this, or the JS handle's finalizer. */
  if (c->self == NULL) free(c);
}

static void stop(capture_t *c) {
  if (c->closing) return;
  c->closing = true;
  release(c);
  if (c->open_handles > 0) {
    if (c->polling) uv_poll_stop(&c->poll);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
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
  int32_t count = (int32_t)c->count;
  c->count = 0;
  call_on_batch(c, count, NULL);
}

/*
 * The capture failed for good (the interface set down, deleted, moved away): libuv has already stopped the
 * poll when it reports an error, and a failed pcap_dispatch fails again. Stop polling and tell JavaScript
 * with onBatch(-1, reason); it closes this handle and opens a new one when the interface is back.
 */
static void deliver_error(capture_t *c, const char *reason) {
  if (c->polling) uv_poll_stop(&c->poll);
  c->polling = false;
  uv_timer_stop(&c->timer);
  c->paused = false;
  call_on_batch(c, -1, reason);
}

static void on_readable(uv_poll_t *handle, int status, int events);

static uint64_t loop_now(const capture_t *c) { return uv_now(c->timer.loop); }

static bool flush_due(const capture_t *c) {
  return pending_summaries(c) > 0 && loop_now(c) - c->pending_since >= FOLD_FLUSH_MS;
}

static void on_timer(uv_timer_t *timer);

/* Rests the poll for pause_ms when asked, and wakes up again by then or when the pending summaries are due. */
static void arm_timer(capture_t *c, bool pause) {
  uint64_t wait = UINT64_MAX;
  if (pause) wait = c->pause_ms;
  if (pending_summaries(c) > 0) {
    uint64_t age = loop_now(c) - c->pending_since;
    uint64_t due_in = age >= FOLD_FLUSH_MS ? 0 : FOLD_FLUSH_MS - age;
    if (due_in < wait) wait = due_in;
  }
  if (wait == UINT64_MAX) return;
  if (pause) {
    uv_poll_stop(&c->poll);
    c->polling = false;
    c->paused = true;
  }
  uv_timer_start(&c->timer, on_timer, wait, 0);
}

static void on_timer(uv_timer_t *timer) {
  capture_t *c = (capture_t *)timer->data;
  if (c->closing) return;
  if (flush_due(c)) {
    flush_summaries(c);
    if (c->count > 0) deliver(c);
    if (c->closing) return;
  }
  if (c->paused) {
    c->paused = false;
    /* Level-triggered: what arrived during the pause makes the poll fire at once. */
    if (uv_poll_start(&c->poll, UV_READABLE, on_readable) == 0) c->polling = true;
    else {
      deliver_error(c, "cannot poll the capture again");
      return;
    }
  }
  if (c->polling) arm_timer(c, false);
}

/* Frames this batch may still take: every frame can add one slot (itself, or a new pending summary). */
static size_t free_slots(const capture_t *c) {
  size_t reserved = c->count + pending_summaries(c);
  return reserved < c->slots ? c->slots - reserved : 0;
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
  size_t drained = 0;
  c->count = 0;
  for (int round = 0; round < MAX_ROUNDS && !c->closing; round++) {
    size_t room = free_slots(c);
    if (room < c->slots / 4) {
      flush_summaries(c);
      deliver(c);
      if (c->closing) return;
      room = free_slots(c);
    }
    int n = pcap_dispatch(c->pcap, (int)room, on_packet, (u_char *)c);
    if (n > 0) drained += (size_t)n;
    if (n < 0 && n != PCAP_ERROR_BREAK) {
      flush_summaries(c);
      if (c->count > 0) deliver(c);
      if (c->closing) return;
      char reason[PCAP_ERRBUF_SIZE + 32];
      snprintf(reason, sizeof reason, "capture failed: %s", pcap_geterr(c->pcap));
      deliver_error(c, reason);
      return;
    }
    if (n < (int)room) break; /* ring empty (0) or a short batch */
  }
  if (pending_summaries(c) > 0 && c->pending_since == 0) c->pending_since = loop_now(c);
  if (flush_due(c)) flush_summaries(c);
  if (c->count > 0) deliver(c);
  if (c->closing || !c->polling) return;
  arm_timer(c, c->pause_ms > 0 && drained >= PAUSE_AFTER_FRAMES);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  capture_t *c = (capture_t *)data;
  napi_delete_reference(env, c->self);
  c->self = NULL;
  stop(c);
  /* With libuv handles closing, the last on_handle_closed frees the struct. */
  if (c->open_handles == 0) free(c);
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

static napi_value capture_flush(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture_t *c = unwrap_this(env, info, &argc, NULL);
  if (c == NULL) return NULL;
  uint32_t count = 0;
  if (!c->closing && !c->in_callback && c->count == 0) {
    flush_summaries(c);
    count = (uint32_t)c->count;
    c->count = 0;
  }
  napi_value result;
  napi_create_uint32(env, count, &result);
  return result;
}

static napi_value capture_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  capture_t *c = unwrap_this(env, info, &argc, argv);
  if (c == NULL) return NULL;
  if (argc < 2) return throw_message(env, "EINVAL", "send(buffer, length)");
  if (c->closing || c->pcap == NULL) return throw_message(env, "ECLOSED", "capture is closed");
  void *bytes = NULL;
  size_t size = 0;
  uint32_t length = 0;
  if (napi_get_buffer_info(env, argv[0], &bytes, &size) != napi_ok) return throw_message(env, "EINVAL", "send: buffer must be a Buffer");
  if (napi_get_value_uint32(env, argv[1], &length) != napi_ok || length == 0 || length > size) return throw_message(env, "EINVAL", "send: length must be 1..buffer.length");
  if (pcap_inject(c->pcap, bytes, length) != (int)length) return throw_message(env, "ESEND", pcap_geterr(c->pcap));
  return NULL;
}

static napi_value capture_unfold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  capture_t *c = unwrap_this(env, info, &argc, argv);
  if (c == NULL) return NULL;
  if (c->fold == NULL) return NULL; /* nothing is folded */
  bool is_typed = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *data = NULL;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_uint32_array) {
    return throw_message(env, "EINVAL", "unfold(senders: Uint32Array)");
  }
  const uint32_t *senders = (const uint32_t *)data;
  for (size_t i = 1; i < count; i++) {
    if (senders[i - 1] >= senders[i]) return throw_message(env, "EINVAL", "unfold: senders must be sorted ascending without repeats");
  }
  if (!fold_set_unfolded(c->fold, senders, count)) return throw_message(env, "ENOMEM", "out of memory");
  return NULL;
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
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 6) return throw_message(env, "EINVAL", "open(dev, filter, bufferBytes, data, lengths, onBatch[, foldRepeats, pauseMs])");
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
  bool fold_repeats = false;
  int32_t pause_ms = 0;
  if (argc > 6 && napi_get_value_bool(env, argv[6], &fold_repeats) != napi_ok) return throw_message(env, "EINVAL", "foldRepeats must be a boolean");
  if (argc > 7 && (napi_get_value_int32(env, argv[7], &pause_ms) != napi_ok || pause_ms < 0 || pause_ms > MAX_PAUSE_MS)) {
    return throw_message(env, "EINVAL", "pauseMs must be an integer in 0..100");
  }
  fold_t *fold = NULL;
  if (fold_repeats && (fold = fold_new(slots)) == NULL) return throw_message(env, "ENOMEM", "out of memory");

  char errbuf[PCAP_ERRBUF_SIZE];
  errbuf[0] = '\0';
  pcap_t *p = pcap_create(dev, errbuf);
  if (p == NULL) {
    fold_free(fold);
    return throw_message(env, "EOPEN", errbuf);
  }
  char message[PCAP_ERRBUF_SIZE + 64];
  int rc;
  if (pcap_set_snaplen(p, SNAPLEN) != 0 || pcap_set_promisc(p, 1) != 0 || pcap_set_timeout(p, 1000) != 0 ||
      pcap_set_immediate_mode(p, 1) != 0 || pcap_set_buffer_size(p, buffer_bytes) != 0) {
    pcap_close(p);
    fold_free(fold);
    return throw_message(env, "EOPEN", "cannot set capture options");
  }
  rc = pcap_activate(p);
  if (rc < 0) {
    snprintf(message, sizeof message, "%s", rc == PCAP_ERROR_PERM_DENIED ? "Operation not permitted (pcap_activate)" :
             rc == PCAP_ERROR_NO_SUCH_DEVICE ? "No such device exists" : pcap_geterr(p));
    pcap_close(p);
    fold_free(fold);
    return throw_message(env, "EOPEN", message);
  }
  struct bpf_program program;
  if (pcap_setnonblock(p, 1, errbuf) != 0 || pcap_compile(p, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(message, sizeof message, "%s", errbuf[0] ? errbuf : pcap_geterr(p));
    pcap_close(p);
    fold_free(fold);
    return throw_message(env, "EOPEN", message);
  }
  rc = pcap_setfilter(p, &program);
  pcap_freecode(&program);
  if (rc != 0) {
    snprintf(message, sizeof message, "%s", pcap_geterr(p));
    pcap_close(p);
    fold_free(fold);
    return throw_message(env, "EOPEN", message);
  }
  int fd = pcap_get_selectable_fd(p);
  uv_loop_t *loop = NULL;
  if (fd < 0 || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    pcap_close(p);
    fold_free(fold);
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
  c->fold = fold;
  c->pause_ms = (uint64_t)pause_ms;
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
      {"flush", NULL, capture_flush, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, capture_send, NULL, NULL, NULL, napi_default, NULL},
      {"unfold", NULL, capture_unfold, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, self, 5, props);
  if (napi_wrap(env, self, c, finalize, NULL, &c->self) != napi_ok) {
    release(c);
    pcap_close(p);
    free(c);
    return throw_message(env, "EOPEN", "cannot wrap the capture");
  }
  c->poll.data = c;
  c->timer.data = c;
  if (uv_poll_init(loop, &c->poll, fd) != 0) {
    stop(c);
    return throw_message(env, "EOPEN", "cannot poll the capture");
  }
  if (uv_timer_init(loop, &c->timer) != 0) {
    /* Only the poll to close. */
    c->open_handles = 1;
    c->closing = true;
    release(c);
    uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    return throw_message(env, "EOPEN", "cannot set up the capture's timer");
  }
  c->open_handles = 2;
  if (uv_poll_start(&c->poll, UV_READABLE, on_readable) != 0) {
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
  napi_value slot, counts_at;
  napi_create_uint32(env, SLOT_BYTES, &slot);
  napi_create_uint32(env, FOLD_REQUESTS_AT, &counts_at);
  const napi_property_descriptor props[] = {
      {"open", NULL, capture_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetStatistics", NULL, packet_statistics, NULL, NULL, NULL, napi_enumerable, NULL},
      {"SLOT_BYTES", NULL, NULL, NULL, NULL, slot, napi_enumerable, NULL},
      {"FOLD_COUNTS_AT", NULL, NULL, NULL, NULL, counts_at, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
