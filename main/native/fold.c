/* Repeat folding for the ARP watch's capture: see fold.h for what is folded and why it is exact. */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ARP_LENGTH 28
/* Senders remembered: a power of two, cleared between batches when three quarters full. */
#define TABLE_SIZE 65536u
#define TABLE_MASK (TABLE_SIZE - 1u)
#define NO_PENDING (-1)

typedef struct {
  uint64_t key; /* 0: empty (a real key always has sender IP != 0) */
  uint8_t mac[6];
  int32_t pending; /* index into fold->pending, or NO_PENDING */
} sender_t;

typedef struct {
  fold_summary_t summary;
  uint32_t sender;
  bool taken;
} pending_t;

struct fold {
  sender_t *table;
  size_t used;
  pending_t *pending;
  size_t max_pending;
  size_t created; /* pending[0 .. created) made this batch, some taken */
  size_t live;
  size_t next_take;
  uint32_t *unfolded; /* sorted; never folded (fold_set_unfolded) */
  size_t unfolded_count;
};

typedef enum { ARP_OTHER, ARP_QUIET, ARP_BINDING } arp_kind_t;

typedef struct {
  uint64_t key;
  uint32_t sender_ip;
  const uint8_t *sender_mac;
  uint16_t op;
} arp_view_t;

static uint16_t u16(const uint8_t *at) { return (uint16_t)(at[0] << 8 | at[1]); }
static uint32_t u32(const uint8_t *at) { return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3]; }

/*
 * The same checks as codec.ts decode, in the same order of layers: ARP_OTHER for anything decode rejects,
 * probes and replies from 0.0.0.0 (no binding), ARP_BINDING for announcements and gratuitous replies
 * (they bind their sender, and each is an event of its own), ARP_QUIET for requests and replies.
 */
static arp_kind_t read_arp(const uint8_t *b, size_t len, arp_view_t *view) {
  if (len < 14) return ARP_OTHER;
  size_t type_at = 12;
  uint32_t vlan_key = 0;
  if (u16(b + 12) == ETHERTYPE_VLAN) {
    if (len < 18) return ARP_OTHER;
    vlan_key = 0x10000u | (u16(b + 14) & 0x0fffu);
    type_at = 16;
  }
  if (u16(b + type_at) != ETHERTYPE_ARP) return ARP_OTHER;
  const uint8_t *arp = b + type_at + 2;
  if (len < type_at + 2 + ARP_LENGTH) return ARP_OTHER;
  if (u16(arp) != 1 || u16(arp + 2) != 0x0800 || arp[4] != 6 || arp[5] != 4) return ARP_OTHER;
  uint16_t op = u16(arp + 6);
  if (op != 1 && op != 2) return ARP_OTHER;
  uint32_t sender_ip = u32(arp + 14);
  uint32_t target_ip = u32(arp + 24);
  if (sender_ip == 0) return ARP_OTHER;
  view->key = (uint64_t)vlan_key << 32 | sender_ip;
  view->sender_ip = sender_ip;
  view->sender_mac = arp + 8;
  view->op = op;
  return sender_ip == target_ip ? ARP_BINDING : ARP_QUIET;
}

static uint32_t slot_of(uint64_t key) { return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 48) & TABLE_MASK; }

/* The sender's entry, inserted if new; NULL when the table is full (then the frame is just delivered). */
static sender_t *find_sender(fold_t *fold, uint64_t key, bool *inserted) {
  uint32_t at = slot_of(key);
  for (uint32_t probes = 0; probes < TABLE_SIZE; probes++, at = (at + 1) & TABLE_MASK) {
    sender_t *sender = &fold->table[at];
    if (sender->key == key) {
      *inserted = false;
      return sender;
    }
    if (sender->key == 0) {
      if (fold->used + 1 >= TABLE_SIZE) return NULL;
      sender->key = key;
      sender->pending = NO_PENDING;
      fold->used++;
      *inserted = true;
      return sender;
    }
  }
  return NULL;
}

fold_t *fold_new(size_t max_pending) {
  fold_t *fold = calloc(1, sizeof *fold);
  if (fold == NULL) return NULL;
  fold->table = calloc(TABLE_SIZE, sizeof *fold->table);
  fold->pending = calloc(max_pending > 0 ? max_pending : 1, sizeof *fold->pending);
  if (fold->table == NULL || fold->pending == NULL) {
    fold_free(fold);
    return NULL;
  }
  fold->max_pending = max_pending;
  return fold;
}

void fold_free(fold_t *fold) {
  if (fold == NULL) return;
  free(fold->unfolded);
  free(fold->table);
  free(fold->pending);
  free(fold);
}

bool fold_set_unfolded(fold_t *fold, const uint32_t *senders, size_t count) {
  uint32_t *copy = NULL;
  if (count > 0) {
    copy = malloc(count * sizeof *copy);
    if (copy == NULL) return false;
    memcpy(copy, senders, count * sizeof *copy);
  }
  free(fold->unfolded);
  fold->unfolded = copy;
  fold->unfolded_count = count;
  return true;
}

static bool is_unfolded(const fold_t *fold, uint32_t sender_ip) {
  size_t low = 0, high = fold->unfolded_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    uint32_t at = fold->unfolded[mid];
    if (at == sender_ip) return true;
    if (at < sender_ip) low = mid + 1;
    else high = mid;
  }
  return false;
}

static void take(fold_t *fold, sender_t *sender, fold_summary_t *out) {
  pending_t *pending = &fold->pending[sender->pending];
  *out = pending->summary;
  pending->taken = true;
  sender->pending = NO_PENDING;
  fold->live--;
}

fold_verdict_t fold_frame(fold_t *fold, const uint8_t *bytes, size_t caplen, fold_summary_t *before) {
  arp_view_t view;
  arp_kind_t kind = read_arp(bytes, caplen, &view);
  if (kind == ARP_OTHER) return FOLD_DELIVER;
  bool inserted = false;
  sender_t *sender = find_sender(fold, view.key, &inserted);
  if (sender == NULL) return FOLD_DELIVER;
  bool same_mac = !inserted && memcmp(sender->mac, view.sender_mac, 6) == 0;
  if (kind == ARP_QUIET && same_mac && caplen <= FOLD_FRAME_MAX && !is_unfolded(fold, view.sender_ip)) {
    if (sender->pending == NO_PENDING) {
      if (fold->created >= fold->max_pending) goto deliver;
      pending_t *pending = &fold->pending[fold->created];
      memset(pending, 0, sizeof *pending);
      memcpy(pending->summary.frame, bytes, caplen);
      pending->summary.length = (uint32_t)caplen;
      pending->sender = (uint32_t)(sender - fold->table);
      sender->pending = (int32_t)fold->created++;
      fold->live++;
    }
    fold_summary_t *summary = &fold->pending[sender->pending].summary;
    if (view.op == 1) summary->requests++;
    else summary->replies++;
    return FOLD_FOLDED;
  }
deliver:
  memcpy(sender->mac, view.sender_mac, 6);
  if (sender->pending == NO_PENDING) return FOLD_DELIVER;
  take(fold, sender, before);
  return FOLD_DELIVER_AFTER_SUMMARY;
}

size_t fold_pending_count(const fold_t *fold) { return fold->live; }

bool fold_take_pending(fold_t *fold, fold_summary_t *out) {
  while (fold->next_take < fold->created) {
    pending_t *pending = &fold->pending[fold->next_take++];
    if (pending->taken) continue;
    take(fold, &fold->table[pending->sender], out);
    return true;
  }
  /* The batch is over: start the pending list again, and forget every sender if the table is filling up. */
  fold->created = 0;
  fold->next_take = 0;
  if (fold->used > TABLE_SIZE / 4 * 3) {
    memset(fold->table, 0, TABLE_SIZE * sizeof *fold->table);
    fold->used = 0;
  }
  return false;
}
