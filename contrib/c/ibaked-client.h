/*
 * ibaked-client: a small C client of the ibaked daemon (docs/daemon.md) for SBC and media
 * modules written in C (Kamailio, OpenSIPS, FreeSWITCH). It speaks the daemon's framing over the
 * Unix socket (4-octet big-endian length, one msgpack map) with msgpack-c, one request at a time
 * per connection, matching every reply to its request id.
 *
 * Memory: every result that owns memory has a *_free function, and key material is zeroed
 * before it is released. Nothing is kept between calls except the connection. A client is not
 * thread safe: use one per thread (connections are cheap; the daemon runs requests from
 * different connections concurrently).
 *
 * Errors: every function returns an ibaked_status. IBAKED_ERR_REMOTE means the daemon answered
 * {ok: false}: err->code holds its code (e.g. "OVERLOADED", "IBAKE_AUTH_FAILED") and, when the
 * protocol answers the failure with an RFC 3830 Error message to send to the peer,
 * err->reply / err->reply_len hold it. Call ibaked_error_free() after any failed call.
 */
#ifndef IBAKED_CLIENT_H
#define IBAKED_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IBAKED_OK = 0,
  IBAKED_ERR_ARG,      /* a bad argument from the caller (NULL, too long, out of range) */
  IBAKED_ERR_CONNECT,  /* the socket could not be opened or connected (err->sys_errno) */
  IBAKED_ERR_IO,       /* read/write failed, or the daemon closed the connection */
  IBAKED_ERR_TIMEOUT,  /* no complete reply within the client's timeout */
  IBAKED_ERR_PROTOCOL, /* a frame or reply the client cannot read (wrong id, shape, size) */
  IBAKED_ERR_NOMEM,    /* an allocation failed */
  IBAKED_ERR_REMOTE    /* the daemon answered ok:false; see err->code / err->message */
} ibaked_status;

typedef struct ibaked_error {
  ibaked_status status;
  int sys_errno;          /* errno of a failed system call, else 0 */
  char code[64];          /* the daemon's error code, or a client code such as "IPC_TIMEOUT" */
  char message[256];
  uint8_t *reply;         /* RFC 3830 Error message to send to the peer (owned), or NULL */
  size_t reply_len;
} ibaked_error;

/* Releases err->reply and clears the error (safe on a zeroed or already freed error). */
void ibaked_error_free(ibaked_error *err);
/* The name of a status, e.g. "IBAKED_ERR_REMOTE". */
const char *ibaked_status_name(ibaked_status s);
/* 1 when the request may simply be sent again later (the daemon said OVERLOADED), else 0. */
int ibaked_error_retryable(const ibaked_error *err);

typedef struct ibaked_client ibaked_client;

/* Connects to the daemon's socket. timeout_ms bounds every later request (0: 10000 ms). */
ibaked_status ibaked_connect(const char *socket_path, int timeout_ms, ibaked_client **out, ibaked_error *err);
/* Closes the connection and frees the client (NULL is fine). */
void ibaked_close(ibaked_client *c);

/* ping: 1 round trip; *time_ms (may be NULL) is the daemon's clock. */
ibaked_status ibaked_ping(ibaked_client *c, uint64_t *time_ms, ibaked_error *err);

/* identity.add {uri, psk?}: registers a local identity (psk_hex NULL in development mode). *added may be NULL. */
ibaked_status ibaked_identity_add(ibaked_client *c, const char *uri, const char *psk_hex, int *added, ibaked_error *err);

/* A MIKEY message the daemon produced, with its SDP attribute line. */
typedef struct ibaked_message {
  uint32_t csb_id;
  uint8_t *data;          /* the MIKEY message (send it to the peer) */
  size_t len;
  char name[32];          /* "I_MESSAGE_1", ... */
  char *key_mgmt;         /* "a=key-mgmt:mikey <base64>" (NUL terminated), or NULL */
} ibaked_message;
void ibaked_message_free(ibaked_message *m);

/* exchange.initiate {from, to, ssrcs?}: n_ssrcs 0 = the daemon's default (one random, one 0). */
ibaked_status ibaked_exchange_initiate(ibaked_client *c, const char *from, const char *to, const uint32_t *ssrcs, size_t n_ssrcs,
                                       ibaked_message *out, ibaked_error *err);
/* exchange.rekey {identity, csbId, peer}: the CSB update's I_MESSAGE_1. */
ibaked_status ibaked_exchange_rekey(ibaked_client *c, const char *identity, uint32_t csb_id, const char *peer, ibaked_message *out,
                                    ibaked_error *err);
/* exchange.close {identity, csbId, peer?}: peer may be NULL; *closed (may be NULL) = states removed. */
ibaked_status ibaked_exchange_close(ibaked_client *c, const char *identity, uint32_t csb_id, const char *peer, uint32_t *closed,
                                    ibaked_error *err);

/* One crypto session's SRTP keys, in the forms SRTP stacks take (docs/keys.md). */
typedef struct ibaked_srtp_key {
  uint32_t cs_id, ssrc, roc;
  char profile[32];             /* e.g. "AES_CM_128_HMAC_SHA1_80" */
  char sender[16];              /* "initiator" (odd CS ID) or "responder" */
  uint8_t key_salt[64];         /* master key ‖ master salt (libsrtp policy.key, GStreamer srtp-key) */
  size_t key_salt_len;
  size_t master_key_len;        /* the first master_key_len octets of key_salt are the key */
  char inline_b64[96];          /* RFC 4568 inline: value (base64 of key_salt) */
  char srtp_cipher[24], srtp_auth[24], srtcp_cipher[24], srtcp_auth[24]; /* GStreamer caps values */
  char libsrtp_profile[48];     /* srtp_profile_t name, "" when libsrtp has none */
  char libsrtp_rtp[64], libsrtp_rtcp[64]; /* srtp_crypto_policy_set_* names */
} ibaked_srtp_key;

typedef struct ibaked_cs_entry {
  uint32_t cs_id, ssrc, roc;
} ibaked_cs_entry;

/* What exchange.receive answered. */
typedef struct ibaked_receive_result {
  uint32_t csb_id;
  char peer[1025];
  ibaked_message reply;         /* reply.data NULL when there is nothing to send */
  ibaked_cs_entry *cs_map;      /* the received message's SRTP-ID map (SSRCs the peer chose) */
  size_t n_cs;
  int established;              /* 1 when this message completed (or re-keyed) the exchange */
  char role[16];                /* "initiator" / "responder" when established */
  ibaked_srtp_key *keys;        /* n_keys entries when established (zeroed by the free) */
  size_t n_keys;
} ibaked_receive_result;
void ibaked_receive_result_free(ibaked_receive_result *r);

/* exchange.receive {identity, message}: a MIKEY message received from the peer. */
ibaked_status ibaked_exchange_receive(ibaked_client *c, const char *identity, const uint8_t *msg, size_t len, ibaked_receive_result *out,
                                      ibaked_error *err);
/* exchange.receive {identity, sdp}: an a=key-mgmt line, an SDP body or a whole SIP message; the daemon finds the MIKEY message. */
ibaked_status ibaked_exchange_receive_sdp(ibaked_client *c, const char *identity, const char *sdp, ibaked_receive_result *out,
                                          ibaked_error *err);

#ifdef __cplusplus
}
#endif
#endif
