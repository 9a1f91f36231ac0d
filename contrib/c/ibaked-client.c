/*
 * ibaked-client.c: the daemon protocol (docs/daemon.md §1) over a Unix socket with msgpack-c.
 * Frame = 4-octet big-endian length + one msgpack map; request {id, method, params}; reply
 * {id, ok, result | error: {code, message, reply?}}. Synchronous: one request in flight per
 * client; a reply with another id is a protocol error. Every read and write is bounded by the
 * client's timeout (poll). Key material read from replies is zeroed in every buffer this file
 * owns before it is freed.
 */
#include "ibaked-client.h"

#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLY (1u << 20)    /* replies are a few KiB; refuse anything absurd */
#define MAX_REQUEST 65536u      /* the daemon's frame limit */
#define MAX_URI 1024u

struct ibaked_client {
  int fd;
  int timeout_ms;
  uint32_t next_id;
};

/* ------------------------------------------------------------------------------------------ */
/* errors */

static ibaked_status fail(ibaked_error *err, ibaked_status s, const char *code, const char *fmt, ...) {
  if (err) {
    err->status = s;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return s;
}

static void wipe_free(void *p, size_t n) {
  if (!p) return;
  volatile uint8_t *v = (volatile uint8_t *)p;
  for (size_t i = 0; i < n; i++) v[i] = 0;
  free(p);
}

void ibaked_error_free(ibaked_error *err) {
  if (!err) return;
  free(err->reply);
  memset(err, 0, sizeof *err);
}

const char *ibaked_status_name(ibaked_status s) {
  switch (s) {
    case IBAKED_OK: return "IBAKED_OK";
    case IBAKED_ERR_ARG: return "IBAKED_ERR_ARG";
    case IBAKED_ERR_CONNECT: return "IBAKED_ERR_CONNECT";
    case IBAKED_ERR_IO: return "IBAKED_ERR_IO";
    case IBAKED_ERR_TIMEOUT: return "IBAKED_ERR_TIMEOUT";
    case IBAKED_ERR_PROTOCOL: return "IBAKED_ERR_PROTOCOL";
    case IBAKED_ERR_NOMEM: return "IBAKED_ERR_NOMEM";
    case IBAKED_ERR_REMOTE: return "IBAKED_ERR_REMOTE";
  }
  return "IBAKED_ERR_UNKNOWN";
}

int ibaked_error_retryable(const ibaked_error *err) {
  return err && err->status == IBAKED_ERR_REMOTE && strcmp(err->code, "OVERLOADED") == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* connection and framing */

ibaked_status ibaked_connect(const char *path, int timeout_ms, ibaked_client **out, ibaked_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!path || !out) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "socket path and out are required");
  *out = NULL;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "socket path longer than %zu", sizeof sa.sun_path - 1);
  memcpy(sa.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (err) err->sys_errno = errno;
    return fail(err, IBAKED_ERR_CONNECT, "IPC_CONNECT", "socket: %s", strerror(errno));
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = errno;
    close(fd);
    if (err) err->sys_errno = e;
    return fail(err, IBAKED_ERR_CONNECT, "IPC_CONNECT", "cannot connect to %s: %s", path, strerror(e));
  }
  ibaked_client *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
  }
  c->fd = fd;
  c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
  c->next_id = 1;
  *out = c;
  return IBAKED_OK;
}

void ibaked_close(ibaked_client *c) {
  if (!c) return;
  if (c->fd >= 0) close(c->fd);
  free(c);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for `events` on the socket until the deadline. */
static ibaked_status wait_fd(ibaked_client *c, short events, long long deadline, ibaked_error *err) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return fail(err, IBAKED_ERR_TIMEOUT, "IPC_TIMEOUT", "no reply from ibaked within %d ms", c->timeout_ms);
    struct pollfd p = {.fd = c->fd, .events = events};
    int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
    if (r > 0) return IBAKED_OK;
    if (r < 0 && errno != EINTR) {
      if (err) err->sys_errno = errno;
      return fail(err, IBAKED_ERR_IO, "IPC_IO", "poll: %s", strerror(errno));
    }
  }
}

static ibaked_status write_all(ibaked_client *c, const uint8_t *b, size_t n, long long deadline, ibaked_error *err) {
  while (n > 0) {
    ibaked_status s = wait_fd(c, POLLOUT, deadline, err);
    if (s != IBAKED_OK) return s;
    ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (err) err->sys_errno = errno;
      return fail(err, IBAKED_ERR_IO, "IPC_IO", "write: %s", strerror(errno));
    }
    b += w;
    n -= (size_t)w;
  }
  return IBAKED_OK;
}

static ibaked_status read_all(ibaked_client *c, uint8_t *b, size_t n, long long deadline, ibaked_error *err) {
  while (n > 0) {
    ibaked_status s = wait_fd(c, POLLIN, deadline, err);
    if (s != IBAKED_OK) return s;
    ssize_t r = recv(c->fd, b, n, 0);
    if (r == 0) return fail(err, IBAKED_ERR_IO, "IPC_CLOSED", "ibaked closed the connection");
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (err) err->sys_errno = errno;
      return fail(err, IBAKED_ERR_IO, "IPC_IO", "read: %s", strerror(errno));
    }
    b += r;
    n -= (size_t)r;
  }
  return IBAKED_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* msgpack helpers */

static void pack_cstr(msgpack_packer *pk, const char *s) {
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key) {
  if (!m || m->type != MSGPACK_OBJECT_MAP) return NULL;
  size_t n = strlen(key);
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object *k = &m->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, key, n) == 0) return &m->via.map.ptr[i].val;
  }
  return NULL;
}

/*
 * A non-negative integer however the daemon's encoder wrote it: msgpack uint, or a float64 with
 * an integral value (msgpackr writes integers beyond 32 bits, e.g. times in ms, as float64).
 */
static int obj_u64(const msgpack_object *v, uint64_t *out) {
  if (!v) return 0;
  if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    *out = v->via.u64;
    return 1;
  }
  if ((v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_FLOAT32) && v->via.f64 >= 0 && v->via.f64 <= 9007199254740992.0 &&
      v->via.f64 == (double)(uint64_t)v->via.f64) {
    *out = (uint64_t)v->via.f64;
    return 1;
  }
  return 0;
}

static int get_u32(const msgpack_object *m, const char *key, uint32_t *out) {
  uint64_t v;
  if (!obj_u64(map_get(m, key), &v) || v > 0xffffffffu) return 0;
  *out = (uint32_t)v;
  return 1;
}

/* Copies a string field into a fixed buffer; 0 when absent, not a string or too long. */
static int get_str(const msgpack_object *m, const char *key, char *out, size_t cap) {
  const msgpack_object *v = map_get(m, key);
  if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap) return 0;
  memcpy(out, v->via.str.ptr, v->via.str.size);
  out[v->via.str.size] = 0;
  return 1;
}

/* A bin field as a new heap copy (0 when absent or not bin). */
static int get_bin_dup(const msgpack_object *m, const char *key, uint8_t **out, size_t *len) {
  const msgpack_object *v = map_get(m, key);
  if (!v || v->type != MSGPACK_OBJECT_BIN || v->via.bin.size == 0) return 0;
  uint8_t *b = malloc(v->via.bin.size);
  if (!b) return -1;
  memcpy(b, v->via.bin.ptr, v->via.bin.size);
  *out = b;
  *len = v->via.bin.size;
  return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* one request / response */

typedef void (*pack_params_fn)(msgpack_packer *pk, const void *ctx);

typedef struct reply {
  uint8_t *buf;   /* the reply frame (may hold keys: wiped on release) */
  size_t len;
  msgpack_unpacked u;
  const msgpack_object *result;
} reply;

static void reply_release(reply *r) {
  msgpack_unpacked_destroy(&r->u);
  wipe_free(r->buf, r->len);
  memset(r, 0, sizeof *r);
}

static ibaked_status remote_error(const msgpack_object *e, ibaked_error *err) {
  char code[64] = "ERROR", message[256] = "";
  get_str(e, "code", code, sizeof code);
  get_str(e, "message", message, sizeof message);
  ibaked_status s = fail(err, IBAKED_ERR_REMOTE, code, "%s", message);
  if (err) {
    int got = get_bin_dup(e, "reply", &err->reply, &err->reply_len);
    if (got < 0) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
  }
  return s;
}

static ibaked_status request_once(ibaked_client *c, const char *method, pack_params_fn pack, const void *ctx, reply *out, ibaked_error *err);

/*
 * One request and its reply. After an I/O error, a timeout or an unreadable frame the stream may
 * be out of step (a late reply would answer the next request), so the connection is closed and
 * every later call fails with IPC_CLOSED: reconnect.
 */
static ibaked_status request(ibaked_client *c, const char *method, pack_params_fn pack, const void *ctx, reply *out, ibaked_error *err) {
  ibaked_status s = request_once(c, method, pack, ctx, out, err);
  if ((s == IBAKED_ERR_IO || s == IBAKED_ERR_TIMEOUT || s == IBAKED_ERR_PROTOCOL) && c && c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  return s;
}

static ibaked_status request_once(ibaked_client *c, const char *method, pack_params_fn pack, const void *ctx, reply *out, ibaked_error *err) {
  memset(out, 0, sizeof *out);
  msgpack_unpacked_init(&out->u);
  if (!c || c->fd < 0) return fail(err, IBAKED_ERR_IO, "IPC_CLOSED", "the connection to ibaked is closed (reconnect)");
  uint32_t id = c->next_id++;
  if (c->next_id > 0x7fffffff) c->next_id = 1;

  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 3);
  pack_cstr(&pk, "id");
  msgpack_pack_uint32(&pk, id);
  pack_cstr(&pk, "method");
  pack_cstr(&pk, method);
  pack_cstr(&pk, "params");
  pack(&pk, ctx);
  ibaked_status s = IBAKED_OK;
  if (sb.size > MAX_REQUEST) s = fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "request of %zu octets exceeds the daemon's %u", sb.size, MAX_REQUEST);
  long long deadline = now_ms() + c->timeout_ms;
  if (s == IBAKED_OK) {
    uint8_t hdr[4] = {(uint8_t)(sb.size >> 24), (uint8_t)(sb.size >> 16), (uint8_t)(sb.size >> 8), (uint8_t)sb.size};
    s = write_all(c, hdr, 4, deadline, err);
    if (s == IBAKED_OK) s = write_all(c, (const uint8_t *)sb.data, sb.size, deadline, err);
  }
  if (sb.data) wipe_free(sb.data, sb.alloc); /* params may hold a PSK */
  sb.data = NULL;
  if (s != IBAKED_OK) return s;

  uint8_t hdr[4];
  s = read_all(c, hdr, 4, deadline, err);
  if (s != IBAKED_OK) return s;
  size_t n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
  if (n == 0 || n > MAX_REPLY) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply frame of %zu octets", n);
  out->buf = malloc(n);
  if (!out->buf) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
  out->len = n;
  s = read_all(c, out->buf, n, deadline, err);
  if (s != IBAKED_OK) return s;
  size_t off = 0;
  if (msgpack_unpack_next(&out->u, (const char *)out->buf, n, &off) != MSGPACK_UNPACK_SUCCESS || off != n ||
      out->u.data.type != MSGPACK_OBJECT_MAP) {
    return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply is not one msgpack map");
  }
  const msgpack_object *m = &out->u.data;
  const msgpack_object *rid = map_get(m, "id");
  const msgpack_object *ok = map_get(m, "ok");
  if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply without ok");
  if (rid && rid->type == MSGPACK_OBJECT_NIL && !ok->via.boolean) return remote_error(map_get(m, "error"), err); /* frame-level error */
  uint64_t got_id;
  if (!obj_u64(rid, &got_id) || got_id != id) {
    return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply for another request (expected id %u)", id);
  }
  if (!ok->via.boolean) return remote_error(map_get(m, "error"), err);
  out->result = map_get(m, "result");
  if (!out->result) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "ok reply without result");
  return IBAKED_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* argument checks */

static int bad_uri(const char *u) {
  if (!u) return 1;
  size_t n = strlen(u);
  if (n == 0 || n > MAX_URI || !strchr(u, ':')) return 1;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)u[i] <= ' ') return 1;
  return 0;
}

#define CHECK_URI(u, name) \
  if (bad_uri(u)) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "%s must be a URI such as sip:alice@example.org", name)

static ibaked_status start(ibaked_client *c, ibaked_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!c) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "client is NULL");
  return IBAKED_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* ping, identity.add */

static void pack_empty(msgpack_packer *pk, const void *ctx) {
  (void)ctx;
  msgpack_pack_map(pk, 0);
}

ibaked_status ibaked_ping(ibaked_client *c, uint64_t *time_ms, ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  reply r;
  s = request(c, "ping", pack_empty, NULL, &r, err);
  if (s == IBAKED_OK) {
    uint64_t t = 0;
    obj_u64(map_get(r.result, "time"), &t);
    if (time_ms) *time_ms = t;
  }
  reply_release(&r);
  return s;
}

struct identity_args {
  const char *uri, *psk;
};
static void pack_identity(msgpack_packer *pk, const void *ctx) {
  const struct identity_args *a = ctx;
  msgpack_pack_map(pk, a->psk ? 2 : 1);
  pack_cstr(pk, "uri");
  pack_cstr(pk, a->uri);
  if (a->psk) {
    pack_cstr(pk, "psk");
    pack_cstr(pk, a->psk);
  }
}

ibaked_status ibaked_identity_add(ibaked_client *c, const char *uri, const char *psk_hex, int *added, ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  CHECK_URI(uri, "uri");
  if (psk_hex && (strlen(psk_hex) < 32 || strlen(psk_hex) > 128)) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "psk must be 16..64 octets of hex");
  struct identity_args a = {uri, psk_hex};
  reply r;
  s = request(c, "identity.add", pack_identity, &a, &r, err);
  if (s == IBAKED_OK && added) {
    const msgpack_object *v = map_get(r.result, "added");
    *added = v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
  }
  reply_release(&r);
  return s;
}

/* ------------------------------------------------------------------------------------------ */
/* messages */

void ibaked_message_free(ibaked_message *m) {
  if (!m) return;
  free(m->data);
  free(m->key_mgmt);
  memset(m, 0, sizeof *m);
}

/* Reads {message|reply: bin, messageName|replyName, keyMgmt|replyKeyMgmt} into m (owned copies). */
static ibaked_status read_message(const msgpack_object *res, const char *data_key, const char *name_key, const char *line_key,
                                  ibaked_message *m, ibaked_error *err) {
  int got = get_bin_dup(res, data_key, &m->data, &m->len);
  if (got < 0) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
  if (got == 0) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply without %s", data_key);
  get_str(res, name_key, m->name, sizeof m->name);
  const msgpack_object *l = map_get(res, line_key);
  if (l && l->type == MSGPACK_OBJECT_STR) {
    m->key_mgmt = malloc(l->via.str.size + 1);
    if (!m->key_mgmt) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
    memcpy(m->key_mgmt, l->via.str.ptr, l->via.str.size);
    m->key_mgmt[l->via.str.size] = 0;
  }
  return IBAKED_OK;
}

struct initiate_args {
  const char *from, *to;
  const uint32_t *ssrcs;
  size_t n;
};
static void pack_initiate(msgpack_packer *pk, const void *ctx) {
  const struct initiate_args *a = ctx;
  msgpack_pack_map(pk, a->n ? 3 : 2);
  pack_cstr(pk, "from");
  pack_cstr(pk, a->from);
  pack_cstr(pk, "to");
  pack_cstr(pk, a->to);
  if (a->n) {
    pack_cstr(pk, "ssrcs");
    msgpack_pack_array(pk, a->n);
    for (size_t i = 0; i < a->n; i++) msgpack_pack_uint32(pk, a->ssrcs[i]);
  }
}

ibaked_status ibaked_exchange_initiate(ibaked_client *c, const char *from, const char *to, const uint32_t *ssrcs, size_t n_ssrcs,
                                       ibaked_message *out, ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  if (!out) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "out is NULL");
  memset(out, 0, sizeof *out);
  CHECK_URI(from, "from");
  CHECK_URI(to, "to");
  if (n_ssrcs > 255 || (n_ssrcs && !ssrcs)) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "ssrcs: 1..255 values, or none");
  struct initiate_args a = {from, to, ssrcs, n_ssrcs};
  reply r;
  s = request(c, "exchange.initiate", pack_initiate, &a, &r, err);
  if (s == IBAKED_OK && !get_u32(r.result, "csbId", &out->csb_id)) s = fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply without csbId");
  if (s == IBAKED_OK) s = read_message(r.result, "message", "messageName", "keyMgmt", out, err);
  reply_release(&r);
  if (s != IBAKED_OK) ibaked_message_free(out);
  return s;
}

struct csb_args {
  const char *identity, *peer;
  uint32_t csb;
};
static void pack_csb(msgpack_packer *pk, const void *ctx) {
  const struct csb_args *a = ctx;
  msgpack_pack_map(pk, a->peer ? 3 : 2);
  pack_cstr(pk, "identity");
  pack_cstr(pk, a->identity);
  pack_cstr(pk, "csbId");
  msgpack_pack_uint32(pk, a->csb);
  if (a->peer) {
    pack_cstr(pk, "peer");
    pack_cstr(pk, a->peer);
  }
}

ibaked_status ibaked_exchange_rekey(ibaked_client *c, const char *identity, uint32_t csb_id, const char *peer, ibaked_message *out,
                                    ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  if (!out) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "out is NULL");
  memset(out, 0, sizeof *out);
  CHECK_URI(identity, "identity");
  CHECK_URI(peer, "peer");
  struct csb_args a = {identity, peer, csb_id};
  reply r;
  s = request(c, "exchange.rekey", pack_csb, &a, &r, err);
  if (s == IBAKED_OK) {
    out->csb_id = csb_id;
    s = read_message(r.result, "message", "messageName", "keyMgmt", out, err);
  }
  reply_release(&r);
  if (s != IBAKED_OK) ibaked_message_free(out);
  return s;
}

ibaked_status ibaked_exchange_close(ibaked_client *c, const char *identity, uint32_t csb_id, const char *peer, uint32_t *closed,
                                    ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  CHECK_URI(identity, "identity");
  if (peer) CHECK_URI(peer, "peer");
  struct csb_args a = {identity, peer, csb_id};
  reply r;
  s = request(c, "exchange.close", pack_csb, &a, &r, err);
  if (s == IBAKED_OK && closed && !get_u32(r.result, "closed", closed)) s = fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "reply without closed");
  reply_release(&r);
  return s;
}

/* ------------------------------------------------------------------------------------------ */
/* exchange.receive */

void ibaked_receive_result_free(ibaked_receive_result *r) {
  if (!r) return;
  ibaked_message_free(&r->reply);
  free(r->cs_map);
  wipe_free(r->keys, r->n_keys * sizeof *r->keys);
  memset(r, 0, sizeof *r);
}

static int read_key(const msgpack_object *k, ibaked_srtp_key *out) {
  const msgpack_object *ks = map_get(k, "keySalt");
  const msgpack_object *mk = map_get(k, "masterKey");
  const msgpack_object *gst = map_get(k, "gst");
  const msgpack_object *lib = map_get(k, "libsrtp");
  if (!ks || ks->type != MSGPACK_OBJECT_BIN || ks->via.bin.size > sizeof out->key_salt) return 0;
  if (!mk || mk->type != MSGPACK_OBJECT_BIN || mk->via.bin.size >= ks->via.bin.size) return 0;
  memcpy(out->key_salt, ks->via.bin.ptr, ks->via.bin.size);
  out->key_salt_len = ks->via.bin.size;
  out->master_key_len = mk->via.bin.size;
  if (!get_u32(k, "csId", &out->cs_id) || !get_u32(k, "ssrc", &out->ssrc) || !get_u32(k, "roc", &out->roc)) return 0;
  if (!get_str(k, "profile", out->profile, sizeof out->profile) || !get_str(k, "sender", out->sender, sizeof out->sender) ||
      !get_str(k, "inline", out->inline_b64, sizeof out->inline_b64))
    return 0;
  if (!get_str(gst, "srtp-cipher", out->srtp_cipher, sizeof out->srtp_cipher) || !get_str(gst, "srtp-auth", out->srtp_auth, sizeof out->srtp_auth) ||
      !get_str(gst, "srtcp-cipher", out->srtcp_cipher, sizeof out->srtcp_cipher) ||
      !get_str(gst, "srtcp-auth", out->srtcp_auth, sizeof out->srtcp_auth))
    return 0;
  if (!get_str(lib, "rtp", out->libsrtp_rtp, sizeof out->libsrtp_rtp) || !get_str(lib, "rtcp", out->libsrtp_rtcp, sizeof out->libsrtp_rtcp)) return 0;
  if (!get_str(lib, "profile", out->libsrtp_profile, sizeof out->libsrtp_profile)) out->libsrtp_profile[0] = 0; /* nil: none */
  return 1;
}

static ibaked_status read_receive(const msgpack_object *res, ibaked_receive_result *out, ibaked_error *err) {
  if (!get_u32(res, "csbId", &out->csb_id) || !get_str(res, "peer", out->peer, sizeof out->peer))
    return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "receive reply without csbId/peer");
  if (map_get(res, "reply")) {
    ibaked_status s = read_message(res, "reply", "replyName", "replyKeyMgmt", &out->reply, err);
    if (s != IBAKED_OK) return s;
    out->reply.csb_id = out->csb_id;
  }
  const msgpack_object *cs = map_get(res, "csMap");
  if (cs && cs->type == MSGPACK_OBJECT_ARRAY && cs->via.array.size > 0) {
    out->cs_map = calloc(cs->via.array.size, sizeof *out->cs_map);
    if (!out->cs_map) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
    out->n_cs = cs->via.array.size;
    for (uint32_t i = 0; i < cs->via.array.size; i++) {
      const msgpack_object *e = &cs->via.array.ptr[i];
      if (!get_u32(e, "csId", &out->cs_map[i].cs_id) || !get_u32(e, "ssrc", &out->cs_map[i].ssrc) || !get_u32(e, "roc", &out->cs_map[i].roc))
        return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "bad csMap entry");
    }
  }
  const msgpack_object *est = map_get(res, "established");
  if (est) {
    const msgpack_object *keys = map_get(est, "keys");
    if (!keys || keys->type != MSGPACK_OBJECT_ARRAY) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "established without keys");
    out->established = 1;
    get_str(est, "role", out->role, sizeof out->role);
    if (keys->via.array.size > 0) {
      out->keys = calloc(keys->via.array.size, sizeof *out->keys);
      if (!out->keys) return fail(err, IBAKED_ERR_NOMEM, "NOMEM", "out of memory");
      out->n_keys = keys->via.array.size;
      for (uint32_t i = 0; i < keys->via.array.size; i++)
        if (!read_key(&keys->via.array.ptr[i], &out->keys[i])) return fail(err, IBAKED_ERR_PROTOCOL, "IPC_PROTOCOL", "bad key entry %u", i);
    }
  }
  return IBAKED_OK;
}

struct receive_args {
  const char *identity;
  const uint8_t *msg;
  size_t len;
  const char *sdp;
};
static void pack_receive(msgpack_packer *pk, const void *ctx) {
  const struct receive_args *a = ctx;
  msgpack_pack_map(pk, 2);
  pack_cstr(pk, "identity");
  pack_cstr(pk, a->identity);
  if (a->sdp) {
    pack_cstr(pk, "sdp");
    pack_cstr(pk, a->sdp);
  } else {
    pack_cstr(pk, "message");
    msgpack_pack_bin(pk, a->len);
    msgpack_pack_bin_body(pk, a->msg, a->len);
  }
}

static ibaked_status receive(ibaked_client *c, const struct receive_args *a, ibaked_receive_result *out, ibaked_error *err) {
  ibaked_status s = start(c, err);
  if (s != IBAKED_OK) return s;
  if (!out) return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "out is NULL");
  memset(out, 0, sizeof *out);
  CHECK_URI(a->identity, "identity");
  reply r;
  s = request(c, "exchange.receive", pack_receive, a, &r, err);
  if (s == IBAKED_OK) s = read_receive(r.result, out, err);
  reply_release(&r);
  if (s != IBAKED_OK) ibaked_receive_result_free(out);
  return s;
}

ibaked_status ibaked_exchange_receive(ibaked_client *c, const char *identity, const uint8_t *msg, size_t len, ibaked_receive_result *out,
                                      ibaked_error *err) {
  if (!msg || len == 0 || len > 60000) {
    if (err) memset(err, 0, sizeof *err);
    return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "message must be 1..60000 octets");
  }
  struct receive_args a = {identity, msg, len, NULL};
  return receive(c, &a, out, err);
}

ibaked_status ibaked_exchange_receive_sdp(ibaked_client *c, const char *identity, const char *sdp, ibaked_receive_result *out, ibaked_error *err) {
  if (!sdp || !*sdp || strlen(sdp) > 65536) {
    if (err) memset(err, 0, sizeof *err);
    return fail(err, IBAKED_ERR_ARG, "BAD_ARGUMENT", "sdp must be 1..65536 characters");
  }
  struct receive_args a = {identity, NULL, 0, sdp};
  return receive(c, &a, out, err);
}
