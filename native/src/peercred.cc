// ibaked_peercred: the credentials of the peer of a connected Unix-domain socket (Linux
// SO_PEERCRED), for the daemon's exchange ownership (DESIGN §6: "the connection or, through
// SO_PEERCRED, the uid"). A separate, tiny addon with no crypto in it: the daemon loads it
// on its own and falls back to connection-only ownership when it is missing.
//   peerCred(fd: number) -> {pid, uid, gid} | null   (null: not a Unix socket / not Linux)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include <sys/socket.h>
#include <sys/types.h>

static napi_value PeerCred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1) {
    napi_throw_type_error(env, nullptr, "peerCred(fd) needs a file descriptor");
    return nullptr;
  }
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, nullptr, "peerCred(fd): fd must be a non-negative integer");
    return nullptr;
  }
#ifdef SO_PEERCRED
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return result;
  napi_value obj, pid, uid, gid;
  napi_create_object(env, &obj);
  napi_create_int64(env, cred.pid, &pid);
  napi_create_int64(env, cred.uid, &uid);
  napi_create_int64(env, cred.gid, &gid);
  napi_set_named_property(env, obj, "pid", pid);
  napi_set_named_property(env, obj, "uid", uid);
  napi_set_named_property(env, obj, "gid", gid);
  return obj;
#else
  return result;
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "peerCred", NAPI_AUTO_LENGTH, PeerCred, nullptr, &fn);
  napi_set_named_property(env, exports, "peerCred", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
