/*
 * client-errors: drives ibaked-client against a misbehaving server (the test's fake daemon) to
 * show each failure comes back as its typed status and code, with nothing leaked. Usage:
 * client-errors SOCKET N — connects N times (300 ms timeout), pings once per connection, then
 * pings again on the same client, and prints "<status> <code>" for both calls per line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ibaked-client.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SOCKET N\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[2]);
  for (int i = 0; i < n; i++) {
    ibaked_error e = {0};
    ibaked_client *c = NULL;
    ibaked_status s = ibaked_connect(argv[1], 300, &c, &e);
    if (s != IBAKED_OK) {
      printf("%s %s\n", ibaked_status_name(s), e.code);
      ibaked_error_free(&e);
      continue;
    }
    s = ibaked_ping(c, NULL, &e);
    printf("%s %s", ibaked_status_name(s), s == IBAKED_OK ? "-" : e.code);
    ibaked_error_free(&e);
    s = ibaked_ping(c, NULL, &e);
    printf(" then %s %s\n", ibaked_status_name(s), s == IBAKED_OK ? "-" : e.code);
    ibaked_error_free(&e);
    ibaked_close(c);
  }
  ibaked_error e = {0};
  ibaked_client *c = NULL;
  printf("%s\n", ibaked_status_name(ibaked_connect("/nonexistent/ibaked.sock", 300, &c, &e)));
  ibaked_error_free(&e);
  printf("%s\n", ibaked_status_name(ibaked_ping(NULL, NULL, &e)));
  ibaked_error_free(&e);
  return 0;
}
