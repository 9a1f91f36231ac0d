/* ipc-c-client: an independent client of the ibaked IPC protocol (docs/daemon.md §1) written
 * against msgpack-c, to check that the daemon's msgpackr framing is plain msgpack any client can
 * speak. One request per run:
 *   ipc-c-client SOCKET METHOD [NAME=STRING | NAME:hex=HEX | NAME:int=N]...
 * sends {id: 1, method, params} as a 4-octet big-endian length + msgpack map, reads one reply
 * frame and prints it as JSON (bin as {"$hex": "..."}). Exit 0 on a reply, 1 on a transport
 * error, 2 on usage. Built by test/daemon-c-client.test.ts with gcc and -lmsgpackc. */
#include <arpa/inet.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void print_str(const char *p, uint32_t n) {
  putchar('"');
  for (uint32_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void print_json(msgpack_object o) {
  switch (o.type) {
    case MSGPACK_OBJECT_NIL: printf("null"); break;
    case MSGPACK_OBJECT_BOOLEAN: printf(o.via.boolean ? "true" : "false"); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: printf("%llu", (unsigned long long)o.via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: printf("%lld", (long long)o.via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: printf("%.17g", o.via.f64); break;
    case MSGPACK_OBJECT_STR: print_str(o.via.str.ptr, o.via.str.size); break;
    case MSGPACK_OBJECT_BIN:
      printf("{\"$hex\":\"");
      for (uint32_t i = 0; i < o.via.bin.size; i++) printf("%02x", (unsigned char)o.via.bin.ptr[i]);
      printf("\"}");
      break;
    case MSGPACK_OBJECT_ARRAY:
      putchar('[');
      for (uint32_t i = 0; i < o.via.array.size; i++) {
        if (i) putchar(',');
        print_json(o.via.array.ptr[i]);
      }
      putchar(']');
      break;
    case MSGPACK_OBJECT_MAP:
      putchar('{');
      for (uint32_t i = 0; i < o.via.map.size; i++) {
        if (i) putchar(',');
        msgpack_object k = o.via.map.ptr[i].key;
        if (k.type == MSGPACK_OBJECT_STR) print_str(k.via.str.ptr, k.via.str.size);
        else printf("\"?\"");
        putchar(':');
        print_json(o.via.map.ptr[i].val);
      }
      putchar('}');
      break;
    default: printf("\"<ext>\""); break; /* the daemon must never send one */
  }
}

static int read_all(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: ipc-c-client SOCKET METHOD [NAME=STRING | NAME:hex=HEX | NAME:int=N]...\n");
    return 2;
  }
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 3);
  msgpack_pack_str_with_body(&pk, "id", 2);
  msgpack_pack_uint32(&pk, 1);
  msgpack_pack_str_with_body(&pk, "method", 6);
  msgpack_pack_str_with_body(&pk, argv[2], strlen(argv[2]));
  msgpack_pack_str_with_body(&pk, "params", 6);
  msgpack_pack_map(&pk, (size_t)(argc - 3));
  for (int i = 3; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) { fprintf(stderr, "bad param %s\n", argv[i]); return 2; }
    char *colon = memchr(argv[i], ':', (size_t)(eq - argv[i]));
    size_t nlen = (size_t)((colon ? colon : eq) - argv[i]);
    msgpack_pack_str_with_body(&pk, argv[i], nlen);
    const char *val = eq + 1;
    if (colon && strncmp(colon, ":hex=", 5) == 0) {
      size_t hl = strlen(val);
      if (hl % 2) { fprintf(stderr, "odd hex\n"); return 2; }
      unsigned char *b = malloc(hl / 2 + 1);
      for (size_t j = 0; j < hl / 2; j++) {
        int hi = hexval(val[2 * j]), lo = hexval(val[2 * j + 1]);
        if (hi < 0 || lo < 0) { fprintf(stderr, "bad hex\n"); return 2; }
        b[j] = (unsigned char)(hi * 16 + lo);
      }
      msgpack_pack_bin_with_body(&pk, b, hl / 2);
      free(b);
    } else if (colon && strncmp(colon, ":int=", 5) == 0) {
      msgpack_pack_int64(&pk, strtoll(val, NULL, 10));
    } else {
      msgpack_pack_str_with_body(&pk, val, strlen(val));
    }
  }

  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strncpy(sa.sun_path, argv[1], sizeof sa.sun_path - 1);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("connect"); return 1; }
  uint32_t len = htonl((uint32_t)sb.size);
  if (write(fd, &len, 4) != 4 || write(fd, sb.data, sb.size) != (ssize_t)sb.size) { perror("write"); return 1; }

  uint32_t rlen;
  if (read_all(fd, &rlen, 4) != 0) { fprintf(stderr, "no reply\n"); return 1; }
  rlen = ntohl(rlen);
  if (rlen > 65536) { fprintf(stderr, "reply frame over 64 KiB\n"); return 1; }
  char *body = malloc(rlen);
  if (read_all(fd, body, rlen) != 0) { fprintf(stderr, "short reply\n"); return 1; }
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  if (msgpack_unpack_next(&u, body, rlen, &off) != MSGPACK_UNPACK_SUCCESS || off != rlen) { fprintf(stderr, "reply is not one msgpack value\n"); return 1; }
  print_json(u.data);
  putchar('\n');
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
  free(body);
  close(fd);
  return 0;
}
