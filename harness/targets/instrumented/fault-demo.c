/*
 * A tiny program of ours built exactly like the instrumented servers (same clang flags, same coverage runtime):
 * it proves the sanitizer oracle and the coverage map against real reports and real counters, not strings.
 * Reads one word from stdin: "heap" overflows a heap buffer (ASan), "shift" shifts by 40 (UBSan),
 * anything else returns normally on one of two paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_len(const char *w) { return (int)strlen(w); }

static int heap_overflow(int n) {
  char *b = malloc((size_t)n);
  memset(b, 'x', (size_t)n);
  int v = b[n + 8]; /* reads past the end: heap-buffer-overflow */
  free(b);
  return v;
}

static int bad_shift(int by) { return 1 << by; }

int main(void) {
  char w[64] = {0};
  if (!fgets(w, sizeof w, stdin)) return 2;
  w[strcspn(w, "\n")] = 0;
  if (strcmp(w, "heap") == 0) return heap_overflow(parse_len(w)) & 1;
  if (strcmp(w, "shift") == 0) return bad_shift(parse_len(w) * 8) & 1;
  if (parse_len(w) > 3) { puts("long"); return 0; }
  puts("short");
  return 0;
}
