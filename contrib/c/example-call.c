/*
 * example-call: a complete MIKEY-IBAKE call between two identities through one ibaked, with the C
 * client, as an SBC module would drive it. Usage: example-call SOCKET [FROM TO]
 * (defaults sip:alice@example.org sip:bob@example.org). Development mode registers both
 * identities with identity.add. Steps: I_MESSAGE_1 carried as its a=key-mgmt line (what an SDP
 * offer holds), R_MESSAGE_1, I_MESSAGE_2, R_MESSAGE_2 as bytes; both sides' keys compared; a CSB
 * update; a tampered message answered with IBAKE_AUTH_FAILED and an Error message for the peer;
 * OVERLOADED retried with back-off. Built with -DHAVE_LIBSRTP2 -lsrtp2 it also builds libsrtp2
 * sessions from both sides' key entries and sends RTP/RTCP through them. Prints what happened,
 * never key material. Exit 0 when every check passed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ibaked-client.h"

#ifdef HAVE_LIBSRTP2
#include <srtp2/srtp.h>

/* The daemon names libsrtp's crypto-policy setters (key entry field libsrtp.rtp / .rtcp). */
static int set_policy(srtp_crypto_policy_t *p, const char *name) {
  if (strcmp(name, "srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80") == 0) srtp_crypto_policy_set_rtp_default(p); /* a macro for this */
  else if (strcmp(name, "srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32") == 0) srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p);
  else if (strcmp(name, "srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80") == 0) srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(p);
  else if (strcmp(name, "srtp_crypto_policy_set_aes_gcm_128_16_auth") == 0) srtp_crypto_policy_set_aes_gcm_128_16_auth(p);
  else return 0;
  return 1;
}

/* An srtp_t for one stream, built from a key entry of a daemon reply (docs/keys.md §8). */
static srtp_t session_for(const ibaked_srtp_key *k, uint8_t *key_copy) {
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  if (!set_policy(&policy.rtp, k->libsrtp_rtp) || !set_policy(&policy.rtcp, k->libsrtp_rtcp)) return NULL;
  memcpy(key_copy, k->key_salt, k->key_salt_len); /* master key || master salt */
  policy.key = key_copy;
  policy.ssrc.type = ssrc_specific;
  policy.ssrc.value = k->ssrc;
  policy.window_size = 128;
  policy.next = NULL;
  srtp_t s = NULL;
  if (srtp_create(&s, &policy) != srtp_err_status_ok) return NULL;
  /* the stream's initial rollover counter (entry.roc) */
  if (srtp_set_stream_roc(s, k->ssrc, k->roc) != srtp_err_status_ok) {
    srtp_dealloc(s);
    return NULL;
  }
  return s;
}

/*
 * libsrtp2 between the two sides: the sender's session from its key entry protects RTP and RTCP
 * of its stream, the receiver's session from its own copy unprotects them byte-identical; a key
 * with one bit changed fails authentication. With roc != UINT32_MAX both entries' ROC is set to
 * it (as a peer's SRTP-ID map may give), and `wrong` differs in the ROC instead of the key.
 * Returns the number of failed checks.
 */
static int libsrtp_roundtrip(const ibaked_srtp_key *send_entry, const ibaked_srtp_key *recv_entry, uint32_t roc) {
  int bad = 0;
  uint8_t k1[64], k2[64], k3[64];
  ibaked_srtp_key snd = *send_entry, rcv = *recv_entry, wrong = *recv_entry;
  const ibaked_srtp_key *send = &snd, *recv = &rcv;
  if (roc != UINT32_MAX) {
    snd.roc = rcv.roc = roc;
    wrong.roc = roc + 1;
  } else {
    wrong.key_salt[3] ^= 0x01;
  }
  srtp_t tx = session_for(send, k1), rx = session_for(recv, k2), rw = session_for(&wrong, k3);
  if (!tx || !rx || !rw) {
    fprintf(stderr, "FAILED: libsrtp policy from the key entry\n");
    bad++;
  }
  for (int i = 0; tx && rx && rw && i < 20; i++) {
    uint8_t pkt[12 + 160 + SRTP_MAX_TRAILER_LEN], orig[12 + 160], copy[sizeof pkt];
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x80;
    pkt[1] = 96;
    pkt[2] = 0;
    pkt[3] = (uint8_t)(i + 1);
    pkt[8] = (uint8_t)(send->ssrc >> 24), pkt[9] = (uint8_t)(send->ssrc >> 16), pkt[10] = (uint8_t)(send->ssrc >> 8), pkt[11] = (uint8_t)send->ssrc;
    for (int j = 12; j < 172; j++) pkt[j] = (uint8_t)(i * 7 + j);
    memcpy(orig, pkt, sizeof orig);
    int len = 172;
    if (srtp_protect(tx, pkt, &len) != srtp_err_status_ok || len <= 172 || memcmp(pkt + 12, orig + 12, 160) == 0) bad++;
    memcpy(copy, pkt, sizeof copy);
    int len2 = len;
    if (srtp_unprotect(rw, copy, &len2) != srtp_err_status_auth_fail) bad++;
    if (srtp_unprotect(rx, pkt, &len) != srtp_err_status_ok || len != 172 || memcmp(pkt, orig, 172) != 0) bad++;
    /* an RTCP sender report of the same stream */
    uint8_t sr[28 + SRTP_MAX_TRAILER_LEN + 4] = {0x80, 200, 0, 6}, sr0[28];
    memcpy(sr + 4, orig + 8, 4);
    for (int j = 8; j < 28; j++) sr[j] = (uint8_t)(i + j);
    memcpy(sr0, sr, 28);
    int rl = 28;
    if (srtp_protect_rtcp(tx, sr, &rl) != srtp_err_status_ok || rl <= 28) bad++;
    if (srtp_unprotect_rtcp(rx, sr, &rl) != srtp_err_status_ok || rl != 28 || memcmp(sr, sr0, 28) != 0) bad++;
  }
  if (tx) srtp_dealloc(tx);
  if (rx) srtp_dealloc(rx);
  if (rw) srtp_dealloc(rw);
  memset(k1, 0, sizeof k1), memset(k2, 0, sizeof k2), memset(k3, 0, sizeof k3);
  memset(&wrong, 0, sizeof wrong), memset(&snd, 0, sizeof snd), memset(&rcv, 0, sizeof rcv);
  return bad;
}
#endif

static int failures = 0;
#define CHECK(cond, ...)                 \
  do {                                   \
    if (!(cond)) {                       \
      failures++;                        \
      fprintf(stderr, "FAILED: ");       \
      fprintf(stderr, __VA_ARGS__);      \
      fprintf(stderr, "\n");             \
    }                                    \
  } while (0)

static void report(const char *what, ibaked_status s, const ibaked_error *e) {
  fprintf(stderr, "%s: %s %s: %s\n", what, ibaked_status_name(s), e->code, e->message);
}

/* exchange.receive, retried with back-off while the daemon says OVERLOADED. */
static ibaked_status receive_retry(ibaked_client *c, const char *id, const uint8_t *m, size_t n, ibaked_receive_result *r, ibaked_error *e) {
  ibaked_status s;
  for (int attempt = 0;; attempt++) {
    s = ibaked_exchange_receive(c, id, m, n, r, e);
    if (!ibaked_error_retryable(e) || attempt == 5) return s;
    ibaked_error_free(e);
    struct timespec d = {0, (long)(10 << attempt) * 1000000L}; /* 10, 20, 40 ... ms */
    nanosleep(&d, NULL);
  }
}

static int same_keys(const ibaked_receive_result *a, const ibaked_receive_result *b) {
  if (a->n_keys != b->n_keys || a->n_keys == 0) return 0;
  for (size_t i = 0; i < a->n_keys; i++) {
    const ibaked_srtp_key *x = &a->keys[i], *y = &b->keys[i];
    if (x->cs_id != y->cs_id || x->ssrc != y->ssrc || x->roc != y->roc || x->key_salt_len != y->key_salt_len ||
        memcmp(x->key_salt, y->key_salt, x->key_salt_len) != 0 || strcmp(x->inline_b64, y->inline_b64) != 0)
      return 0;
  }
  return 1;
}

/* Runs a whole exchange from `first` (received by `to`); fills the two sides' final results. */
static int pump(ibaked_client *c, const char *from, const char *to, const ibaked_message *first, ibaked_receive_result *at_from,
                ibaked_receive_result *at_to) {
  ibaked_error e = {0};
  ibaked_receive_result r = {0};
  ibaked_status s;
  int to_side = 1;
  const uint8_t *msg = first->data;
  size_t len = first->len;
  ibaked_message pending = {0};
  for (int step = 0; msg && step < 8; step++) {
    s = receive_retry(c, to_side ? to : from, msg, len, &r, &e);
    ibaked_message_free(&pending);
    if (s != IBAKED_OK) {
      report("exchange.receive", s, &e);
      ibaked_error_free(&e);
      return 0;
    }
    printf("  %s got a message%s%s%s\n", to_side ? to : from, r.reply.data ? ", answers with " : "", r.reply.data ? r.reply.name : "",
           r.established ? ", keys established" : "");
    pending = r.reply; /* take the reply over; the rest of r is kept or freed below */
    memset(&r.reply, 0, sizeof r.reply);
    if (r.established) {
      ibaked_receive_result *dst = to_side ? at_to : at_from;
      ibaked_receive_result_free(dst);
      *dst = r;
    } else {
      ibaked_receive_result_free(&r);
    }
    memset(&r, 0, sizeof r);
    msg = pending.data;
    len = pending.len;
    to_side = !to_side;
  }
  ibaked_message_free(&pending);
  return at_from->established && at_to->established;
}

int main(int argc, char **argv) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: %s SOCKET [FROM TO]\n\n"
           "Runs a MIKEY-IBAKE call between FROM and TO (default sip:alice@example.org and\n"
           "sip:bob@example.org) through the ibaked daemon at SOCKET, registering both with\n"
           "identity.add (a development-mode daemon provisions them itself), then a CSB update,\n"
           "a tampered message and caller errors; with -DHAVE_LIBSRTP2 also SRTP/SRTCP through\n"
           "libsrtp2 from both sides' key entries. See docs/integration.md section 6.\n"
           "Exit status: 0 every check passed, 1 a check or the daemon failed, 2 usage.\n", argv[0]);
    return 0;
  }
  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: %s SOCKET [FROM TO]   (--help for details)\n", argv[0]);
    return 2;
  }
  const char *alice = argc == 4 ? argv[2] : "sip:alice@example.org";
  const char *bob = argc == 4 ? argv[3] : "sip:bob@example.org";
  ibaked_error e = {0};
  ibaked_client *c = NULL;
  ibaked_status s = ibaked_connect(argv[1], 20000, &c, &e);
  if (s != IBAKED_OK) {
    report("connect", s, &e);
    ibaked_error_free(&e);
    return 1;
  }
  uint64_t t = 0;
  s = ibaked_ping(c, &t, &e);
  CHECK(s == IBAKED_OK && t > 0, "ping");
  ibaked_error_free(&e);
  CHECK(ibaked_identity_add(c, alice, NULL, NULL, &e) == IBAKED_OK, "identity.add %s: %s", alice, e.code);
  ibaked_error_free(&e);
  CHECK(ibaked_identity_add(c, bob, NULL, NULL, &e) == IBAKED_OK, "identity.add %s: %s", bob, e.code);
  ibaked_error_free(&e);

  /* 1. the call: I_MESSAGE_1 travels as its SDP attribute line */
  printf("call %s -> %s\n", alice, bob);
  uint32_t ssrcs[2] = {0x1234abcd, 0};
  ibaked_message i1 = {0};
  s = ibaked_exchange_initiate(c, alice, bob, ssrcs, 2, &i1, &e);
  CHECK(s == IBAKED_OK && i1.data && i1.key_mgmt && strncmp(i1.key_mgmt, "a=key-mgmt:mikey ", 17) == 0, "initiate: %s", e.code);
  ibaked_error_free(&e);
  ibaked_receive_result r1 = {0}, at_alice = {0}, at_bob = {0};
  s = ibaked_exchange_receive_sdp(c, bob, i1.key_mgmt ? i1.key_mgmt : "-", &r1, &e);
  CHECK(s == IBAKED_OK && r1.reply.data && strcmp(r1.reply.name, "R_MESSAGE_1") == 0, "receive I_MESSAGE_1 from its a=key-mgmt line: %s", e.code);
  CHECK(r1.n_cs == 2 && r1.cs_map[0].ssrc == 0x1234abcd && r1.cs_map[1].ssrc == 0, "csMap of I_MESSAGE_1");
  ibaked_error_free(&e);
  if (r1.reply.data && pump(c, bob, alice, &r1.reply, &at_bob, &at_alice)) {
    CHECK(same_keys(&at_alice, &at_bob), "both sides have the same keys");
    CHECK(strcmp(at_alice.role, "initiator") == 0 && strcmp(at_bob.role, "responder") == 0, "roles");
    for (size_t i = 0; i < at_alice.n_keys; i++) {
      const ibaked_srtp_key *k = &at_alice.keys[i];
      printf("  cs %u ssrc 0x%08x roc %u %s sent by the %s: key||salt %zu octets (master key %zu), GStreamer %s/%s, libsrtp %s\n", k->cs_id,
             k->ssrc, k->roc, k->profile, k->sender, k->key_salt_len, k->master_key_len, k->srtp_cipher, k->srtp_auth, k->libsrtp_rtp);
    }
    CHECK(at_alice.n_keys == 2 && at_alice.keys[0].ssrc == 0x1234abcd && at_alice.keys[1].ssrc != 0, "SSRCs");
#ifdef HAVE_LIBSRTP2
    if (at_alice.n_keys == 2 && at_bob.n_keys == 2 && srtp_init() == srtp_err_status_ok) {
      /* alice sends cs 1 (her copy), bob receives it (his copy); and the other way round */
      int bad = libsrtp_roundtrip(&at_alice.keys[0], &at_bob.keys[0], UINT32_MAX) + libsrtp_roundtrip(&at_bob.keys[1], &at_alice.keys[1], UINT32_MAX);
      CHECK(bad == 0, "libsrtp2: %d packet checks failed", bad);
      printf("  libsrtp2 %s: 20 RTP + 20 RTCP each way protected and unprotected byte-identical, a changed key failed authentication\n",
             bad ? "FAILED" : "ok");
      int bad_roc = libsrtp_roundtrip(&at_alice.keys[0], &at_bob.keys[0], 7);
      CHECK(bad_roc == 0, "libsrtp2 at ROC 7: %d packet checks failed", bad_roc);
      printf("  libsrtp2 at ROC 7 (srtp_set_stream_roc) %s: byte-identical, a receiver at ROC 8 failed authentication\n", bad_roc ? "FAILED" : "ok");
      srtp_shutdown();
    }
#endif
  } else {
    CHECK(0, "the exchange did not complete");
  }

  /* 2. CSB update: new keys on both sides */
  ibaked_message up = {0};
  ibaked_receive_result u_alice = {0}, u_bob = {0};
  s = ibaked_exchange_rekey(c, alice, i1.csb_id, bob, &up, &e);
  CHECK(s == IBAKED_OK, "rekey: %s", e.code);
  ibaked_error_free(&e);
  if (s == IBAKED_OK && pump(c, alice, bob, &up, &u_alice, &u_bob)) {
    CHECK(same_keys(&u_alice, &u_bob), "same keys after the CSB update");
    CHECK(!same_keys(&u_alice, &at_alice), "the CSB update changed the keys");
    printf("  CSB update: both sides moved to new keys\n");
  } else {
    CHECK(0, "the CSB update did not complete");
  }
  uint32_t closed = 0;
  CHECK(ibaked_exchange_close(c, alice, i1.csb_id, NULL, &closed, &e) == IBAKED_OK && closed >= 1, "close at alice: %s", e.code);
  ibaked_error_free(&e);
  CHECK(ibaked_exchange_close(c, bob, i1.csb_id, alice, &closed, &e) == IBAKED_OK && closed == 1, "close at bob: %s", e.code);
  ibaked_error_free(&e);

  /* 3. a tampered I_MESSAGE_1: typed error, and an RFC 3830 Error message to send back */
  ibaked_message t1 = {0};
  s = ibaked_exchange_initiate(c, alice, bob, NULL, 0, &t1, &e);
  ibaked_error_free(&e);
  if (s == IBAKED_OK) {
    t1.data[t1.len - 1] ^= 1;
    ibaked_receive_result bad = {0};
    s = ibaked_exchange_receive(c, bob, t1.data, t1.len, &bad, &e);
    CHECK(s == IBAKED_ERR_REMOTE && strcmp(e.code, "IBAKE_AUTH_FAILED") == 0 && e.reply && e.reply_len > 2 && e.reply[1] == 6,
          "tampered message: %s %s", ibaked_status_name(s), e.code);
    printf("  tampered I_MESSAGE_1: %s, Error message of %zu octets for the peer\n", e.code, e.reply_len);
    ibaked_error_free(&e);
    ibaked_receive_result_free(&bad);
  }

  /* 4. caller errors stay on this side */
  ibaked_message x = {0};
  s = ibaked_exchange_initiate(c, "not a uri", bob, NULL, 0, &x, &e);
  CHECK(s == IBAKED_ERR_ARG && x.data == NULL, "a bad URI is refused locally");
  ibaked_error_free(&e);
  s = ibaked_exchange_initiate(c, "sip:carol@example.org", bob, NULL, 0, &x, &e);
  CHECK(s == IBAKED_ERR_REMOTE && strcmp(e.code, "IDENTITY_UNKNOWN") == 0, "unknown identity: %s", e.code);
  ibaked_error_free(&e);

  ibaked_message_free(&i1);
  ibaked_message_free(&up);
  ibaked_message_free(&t1);
  ibaked_message_free(&x);
  ibaked_receive_result_free(&r1);
  ibaked_receive_result_free(&at_alice);
  ibaked_receive_result_free(&at_bob);
  ibaked_receive_result_free(&u_alice);
  ibaked_receive_result_free(&u_bob);
  ibaked_close(c);
  printf(failures ? "FAILED: %d check(s)\n" : "OK: every check passed\n", failures);
  return failures ? 1 : 0;
}
