/*
 * Repeat folding for the ARP watch's capture (capture.c, option foldRepeats).
 *
 * What the watch's binding table (main/watch/bindings.ts) does with an ARP request or reply from a sender
 * address whose binding already names the frame's sender MAC is only counting: the binding's count and
 * last-seen time, its claim time for a reply, the storm detector's rate, and a conflict per frame when the
 * address is held by another MAC. No new station, no MAC change, no flip-flop. Such a frame is folded here
 * instead of handed to JavaScript: per sender (VLAN + sender IPv4 address), the requests and replies of one
 * batch become one summary, with the first folded frame as its representative. A sender's summary is put
 * into the batch before any frame of the same sender that is delivered, so per sender JavaScript sees the
 * order of the wire; bindings.ts `observeRepeats` adds a summary up exactly as the frames one by one.
 *
 * The "last delivered MAC" per sender is remembered across batches: a station that keeps asking is folded
 * from its second frame on, for as long as its MAC stays. Probes (sender 0.0.0.0), announcements and
 * gratuitous replies (sender = target), frames that are not well-formed Ethernet/IPv4 ARP (decode would
 * reject them: the JavaScript counts them as malformed), frames over FOLD_FRAME_MAX bytes and frames from a
 * sender on the unfolded list (fold_set_unfolded) are always delivered. Forgetting is always safe — a sender not in the table is delivered — so a full table is
 * cleared between batches and a full pending list just delivers.
 */
#ifndef IPFO_FOLD_H
#define IPFO_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An ARP frame is 42 bytes, 60 padded, 64 with an 802.1Q tag: a longer one is delivered as it is. */
#define FOLD_FRAME_MAX 64
/* Where a summary's counts go in its 128-byte slot: after the representative frame. */
#define FOLD_REQUESTS_AT 64
#define FOLD_REPLIES_AT (FOLD_REQUESTS_AT + 4)

typedef enum {
  FOLD_DELIVER,               /* hand the frame to JavaScript */
  FOLD_DELIVER_AFTER_SUMMARY, /* hand it over, after the summary of its sender's folded frames (in *before) */
  FOLD_FOLDED,                /* counted in its sender's pending summary */
} fold_verdict_t;

typedef struct {
  uint8_t frame[FOLD_FRAME_MAX];
  uint32_t length;
  uint32_t requests;
  uint32_t replies;
} fold_summary_t;

typedef struct fold fold_t;

/* max_pending: the most summaries one batch may hold (the capture's slots). NULL when out of memory. */
fold_t *fold_new(size_t max_pending);
void fold_free(fold_t *fold);

fold_verdict_t fold_frame(fold_t *fold, const uint8_t *bytes, size_t caplen, fold_summary_t *before);

/*
 * Senders (IPv4, host byte order, sorted ascending, no repeats) whose frames are never folded: the agent's
 * claims and watchers need every frame from the addresses they hold or listen to (a rival that repeats
 * itself is a conflict each time). The list is copied; false when out of memory (the old list stays).
 */
bool fold_set_unfolded(fold_t *fold, const uint32_t *senders, size_t count);

/* Summaries pending in this batch. */
size_t fold_pending_count(const fold_t *fold);

/* The oldest pending summary into *out; false when none is left (the batch is over). */
bool fold_take_pending(fold_t *fold, fold_summary_t *out);

static inline void fold_put_u32le(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
  at[2] = (uint8_t)(value >> 16);
  at[3] = (uint8_t)(value >> 24);
}

#endif
