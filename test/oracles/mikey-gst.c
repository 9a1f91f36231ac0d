/* mikey-gst.c: GStreamer's MIKEY parser (libgstsdp, gst_mikey_message_new_from_data) as a second,
 * independent reader of MIKEY messages. Reads one message (raw octets) on stdin, parses it with
 * GStreamer, prints what GStreamer understood as one JSON object, re-serialises it with
 * gst_mikey_message_to_bytes and compares. Also prints how GStreamer maps the message to SRTP caps
 * (gst_mikey_message_to_caps: srtp-cipher/srtp-auth from the SP payload; null when it declines,
 * e.g. for a KEMAC with a MAC). Built and run by the `mikey-gst` wrapper beside this
 * file (which adds the timeout: GStreamer never returns on payload types it does not model).
 *
 * The libraries are loaded with dlopen, so building needs no GStreamer headers or -dev packages:
 * the structures below restate the public GStreamer 1.x ABI (gstminiobject.h, gstmikey.h, garray.h).
 * Exit: 0 parsed and re-serialised identically (KEMAC MAC aside: without a key GStreamer does not
 * compute it and leaves those octets unset, so they are left out of the comparison);
 * 1 rejected or re-serialised differently; 2 library missing or bad input. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { size_t type; int refcount, lockstate; unsigned flags; void *copy, *dispose, *free_fn; unsigned priv_uint; void *priv_pointer; } MiniObject;
typedef struct { char *data; unsigned len; } Array;
typedef struct { MiniObject mo; uint8_t version; int type, V, prf_func; uint32_t csb_id; int map_type; Array *map_info, *payloads; } Message;
typedef struct { uint8_t policy; uint32_t ssrc, roc; } MapSrtp;
typedef struct { MiniObject mo; int type; unsigned len; } Payload;
typedef struct { Payload pt; int type; uint8_t *ts_value; } PayloadT;
typedef struct { Payload pt; uint8_t len; uint8_t *rand; } PayloadRand;
typedef struct { Payload pt; unsigned policy; int proto; Array *params; } PayloadSp;
typedef struct { uint8_t type, len; uint8_t *val; } SpParam;
typedef struct { Payload pt; int enc_alg, mac_alg; Array *subpayloads; } PayloadKemac;
typedef struct { Payload pt; int key_type; uint16_t key_len; uint8_t *key_data; uint16_t salt_len; uint8_t *salt_data; int kv_type; uint8_t kv_len[2]; uint8_t *kv_data[2]; } PayloadKey;
typedef struct { Payload pt; int c; uint16_t data_len; uint8_t *data; } PayloadPke;

enum { PT_KEMAC = 1, PT_PKE = 2, PT_T = 5, PT_SP = 10, PT_RAND = 11, PT_KEY = 20 };

static void hex(const uint8_t *p, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
  putchar('"');
}

static void *sym(void *lib, const char *name) {
  void *f = dlsym(lib, name);
  if (!f) {
    fprintf(stderr, "mikey-gst: %s not found: %s\n", name, dlerror());
    exit(2);
  }
  return f;
}

/* Wire size of a KEY data sub-payload (RFC 3830 6.13) as GStreamer models it. */
static size_t key_size(const PayloadKey *k) {
  size_t n = 4 + k->key_len + (k->salt_len ? 2 + k->salt_len : 0);
  if (k->kv_type == 1) n += 1 + k->kv_len[0];
  if (k->kv_type == 2) n += 2 + k->kv_len[0] + k->kv_len[1];
  return n;
}

static size_t mac_len(int alg) { return alg == 1 ? 20 : 0; }

/* Prints one payload's fields; returns its wire size (0 when GStreamer models no size for it).
 * *mac_at is set to the offset of a KEMAC's MAC within the payload. */
static size_t payload_json(const Payload *p, size_t *mac_at, size_t *mac_n) {
  size_t size = 0;
  switch (p->type) {
  case PT_T: {
    const PayloadT *t = (const PayloadT *)p;
    size_t n = t->type == 2 ? 4 : 8;
    printf(",\"name\":\"T\",\"ts_type\":%d,\"ts_value\":", t->type);
    hex(t->ts_value, n);
    size = 2 + n;
    break;
  }
  case PT_RAND: {
    const PayloadRand *r = (const PayloadRand *)p;
    printf(",\"name\":\"RAND\",\"rand\":");
    hex(r->rand, r->len);
    size = 2 + r->len;
    break;
  }
  case PT_SP: {
    const PayloadSp *s = (const PayloadSp *)p;
    printf(",\"name\":\"SP\",\"policy\":%u,\"proto\":%d,\"params\":[", s->policy, s->proto);
    size = 5;
    for (unsigned i = 0; i < s->params->len; i++) {
      const SpParam *q = (const SpParam *)(s->params->data + i * sizeof(SpParam));
      printf("%s[%u,%u,", i ? "," : "", q->type, q->len);
      hex(q->val, q->len);
      putchar(']');
      size += 2 + q->len;
    }
    putchar(']');
    break;
  }
  case PT_KEMAC: {
    const PayloadKemac *k = (const PayloadKemac *)p;
    printf(",\"name\":\"KEMAC\",\"enc_alg\":%d,\"mac_alg\":%d,\"sub\":[", k->enc_alg, k->mac_alg);
    size = 4;
    for (unsigned i = 0; i < k->subpayloads->len; i++) {
      const Payload *sp = ((Payload **)k->subpayloads->data)[i];
      if (sp->type != PT_KEY) {
        printf("%s{\"type\":%d}", i ? "," : "", sp->type);
        continue;
      }
      const PayloadKey *key = (const PayloadKey *)sp;
      printf("%s{\"type\":%d,\"key_type\":%d,\"key\":", i ? "," : "", sp->type, key->key_type);
      hex(key->key_data, key->key_len);
      printf(",\"salt_len\":%u,\"salt\":", key->salt_len);
      hex(key->salt_data, key->salt_len);
      printf(",\"kv_type\":%d}", key->kv_type);
      size += key_size(key);
    }
    putchar(']');
    *mac_at = size + 1;
    *mac_n = mac_len(k->mac_alg);
    size += 1 + *mac_n;
    break;
  }
  case PT_PKE: {
    const PayloadPke *k = (const PayloadPke *)p;
    printf(",\"name\":\"PKE\",\"cache\":%d,\"data\":", k->c);
    hex(k->data, k->data_len);
    size = 3 + k->data_len;
    break;
  }
  default:
    printf(",\"name\":\"OTHER\"");
  }
  return size;
}

int main(void) {
  static uint8_t in[1 << 16];
  size_t n = fread(in, 1, sizeof in, stdin);
  if (n == 0 || n == sizeof in) {
    fprintf(stderr, "mikey-gst: give 1..65535 octets on stdin\n");
    return 2;
  }
  void *gst = dlopen("libgstreamer-1.0.so.0", RTLD_NOW | RTLD_GLOBAL);
  void *sdp = gst ? dlopen("libgstsdp-1.0.so.0", RTLD_NOW) : NULL;
  void *glib = dlopen("libglib-2.0.so.0", RTLD_NOW);
  if (!gst || !sdp || !glib) {
    fprintf(stderr, "mikey-gst: cannot load GStreamer (%s); apt-get install libgstreamer-plugins-base1.0-0\n", dlerror());
    return 2;
  }
  void (*init)(int *, char ***) = (void (*)(int *, char ***))sym(gst, "gst_init");
  void (*version)(unsigned *, unsigned *, unsigned *, unsigned *) = (void (*)(unsigned *, unsigned *, unsigned *, unsigned *))sym(gst, "gst_version");
  Message *(*parse)(const void *, size_t, void *, void **) = (Message * (*)(const void *, size_t, void *, void **)) sym(sdp, "gst_mikey_message_new_from_data");
  void *(*to_bytes)(Message *, void *, void **) = (void *(*)(Message *, void *, void **))sym(sdp, "gst_mikey_message_to_bytes");
  const void *(*bytes_data)(void *, size_t *) = (const void *(*)(void *, size_t *))sym(glib, "g_bytes_get_data");
  int (*to_caps)(const Message *, void *) = (int (*)(const Message *, void *))sym(sdp, "gst_mikey_message_to_caps");
  void *(*caps_new)(const char *) = (void *(*)(const char *))sym(gst, "gst_caps_new_empty_simple");
  void *(*caps_structure)(void *, unsigned) = (void *(*)(void *, unsigned))sym(gst, "gst_caps_get_structure");
  const char *(*structure_string)(void *, const char *) = (const char *(*)(void *, const char *))sym(gst, "gst_structure_get_string");
  void (*unref)(void *) = (void (*)(void *))sym(gst, "gst_mini_object_unref");
  init(NULL, NULL);
  unsigned ma, mi, mic, nano;
  version(&ma, &mi, &mic, &nano);
  printf("{\"oracle\":\"gstreamer\",\"gstreamer_version\":\"%u.%u.%u\",\"message_bytes\":%zu", ma, mi, mic, n);

  Message *m = parse(in, n, NULL, NULL);
  if (!m) {
    printf(",\"ok\":false,\"parsed\":false,\"problems\":[\"gst_mikey_message_new_from_data rejected the message\"]}\n");
    return 1;
  }
  printf(",\"parsed\":true,\"version\":%u,\"data_type\":%d,\"V\":%s,\"prf\":%d,\"csb_id\":\"0x%08x\",\"map_type\":%d,\"cs\":[",
         m->version, m->type, m->V ? "true" : "false", m->prf_func, m->csb_id, m->map_type);
  size_t cs = m->map_info ? m->map_info->len : 0;
  for (size_t i = 0; m->map_type == 0 && i < cs; i++) {
    const MapSrtp *e = (const MapSrtp *)(m->map_info->data + i * sizeof(MapSrtp));
    printf("%s{\"policy\":%u,\"ssrc\":\"0x%08x\",\"roc\":%u}", i ? "," : "", e->policy, e->ssrc, e->roc);
  }
  printf("],\"payloads\":[");
  /* HDR: 10 octets plus 9 per SRTP-ID entry (map type 0); offsets of the payloads follow from it. */
  size_t off = 10 + (m->map_type == 0 ? 9 * cs : 0), sized = 1;
  static uint8_t mask[sizeof in]; /* 1 where a KEMAC MAC lies: not compared */
  for (unsigned i = 0; i < m->payloads->len; i++) {
    const Payload *p = ((Payload **)m->payloads->data)[i];
    size_t mac_at = 0, mac_n = 0;
    printf("%s{\"type\":%d,\"offset\":%zu", i ? "," : "", p->type, off);
    size_t size = payload_json(p, &mac_at, &mac_n);
    printf(",\"length\":%zu}", size);
    if (mac_n && off + mac_at + mac_n <= n) memset(mask + off + mac_at, 1, mac_n);
    if (!size) sized = 0;
    off += size;
  }
  printf("]");
  /* GStreamer's reading of the SP payload as SRTP parameters (its own strings, no escaping needed) */
  void *caps = caps_new("application/x-srtp");
  if (to_caps(m, caps)) {
    void *st = caps_structure(caps, 0);
    const char *cipher = structure_string(st, "srtp-cipher"), *auth = structure_string(st, "srtp-auth");
    printf(",\"srtp\":{\"cipher\":\"%s\",\"auth\":\"%s\"}", cipher ? cipher : "", auth ? auth : "");
  } else {
    printf(",\"srtp\":null");
  }
  unref(caps);
  size_t again_n = 0;
  void *gb = to_bytes(m, NULL, NULL);
  const uint8_t *again = gb ? (const uint8_t *)bytes_data(gb, &again_n) : NULL;
  int same = again && again_n == n && !memcmp(again, in, n);
  int same_masked = again && again_n == n;
  for (size_t i = 0; same_masked && i < n; i++) same_masked = mask[i] || again[i] == in[i];
  printf(",\"roundtrip\":{\"serialised\":%s,\"bytes\":%zu,\"identical\":%s,\"identical_except_mac\":%s",
         again ? "true" : "false", again_n, same ? "true" : "false", same_masked ? "true" : "false");
  if (again && !same && !same_masked) printf(",\"hex\":"), hex(again, again_n); /* to see where it differs */
  putchar('}');
  int trailing = sized && off != n;
  int ok = (same || same_masked) && !trailing;
  printf(",\"ok\":%s,\"problems\":[", ok ? "true" : "false");
  const char *sep = "";
  if (!again) printf("%s\"gst_mikey_message_to_bytes failed\"", sep), sep = ",";
  else if (!ok) printf("%s\"re-serialised differently (%zu octets for %zu)\"", sep, again_n, n), sep = ",";
  if (trailing) printf("%s\"payloads end at octet %zu of %zu\"", sep, off, n);
  printf("]}\n");
  return ok ? 0 : 1;
}
