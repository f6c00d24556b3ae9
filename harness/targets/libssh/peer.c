/*
 * libssh peer for ssh-harness: `peer server` (target `libssh`) and `peer client` (client peer `libssh-client`),
 * compiled at setup against Debian's libssh-dev (gcc peer.c -lssh).
 *
 * Configuration comes from the environment (SSH_HARNESS_*; see usage()). The server prints
 * "listening on HOST:PORT" once bound, forks one process per connection (like sshd; the process group ends with
 * the server) and runs the built-in command set of `ssh-harness serve` (echo, cat, exit N, true, false, discard,
 * yes N): nothing is run by a shell. The client forwards its stdin to the remote command, then EOF, and exits
 * with the remote exit status, or 255 when it cannot connect or authenticate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#define MAX_CHANNELS 16
#define MAX_YES (1L << 30)
#define MAX_INPUT (64L << 20) /* bound on buffered channel input */

static void logf_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "libssh-peer[%d]: ", (int)getpid());
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* ------------------------------------------------------------------ built-in commands */

enum step_kind { S_ECHO, S_CAT, S_DISCARD, S_YES, S_TRUE, S_EXIT, S_UNKNOWN };

struct step {
  enum step_kind kind;
  char *text; /* echo: the line to print; unknown: the command name */
  long n;     /* yes: byte count; exit: status */
};

struct chan {
  ssh_channel ch;
  int started, finished, eof, closed;
  struct step *steps;
  int nsteps, at;
  char *in;
  size_t inlen, incap;
  long discarded;
  int status;
};

/* Splits on blanks, honouring single and double quotes (enough for the built-in commands). */
static int split_words(const char *s, char ***out) {
  int n = 0, cap = 8;
  char **w = calloc(cap, sizeof *w);
  char *cur = malloc(strlen(s) + 1);
  size_t len = 0;
  int in_word = 0;
  char quote = 0;
  for (; *s; s++) {
    char c = *s;
    if (quote && c == quote) quote = 0;
    else if (quote) cur[len++] = c;
    else if (c == '\'' || c == '"') { quote = c; in_word = 1; }
    else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        if (n == cap) w = realloc(w, (cap *= 2) * sizeof *w);
        w[n++] = strndup(cur, len);
        len = 0;
        in_word = 0;
      }
    } else { cur[len++] = c; in_word = 1; }
  }
  if (in_word) {
    if (n == cap) w = realloc(w, (cap *= 2) * sizeof *w);
    w[n++] = strndup(cur, len);
  }
  free(cur);
  *out = w;
  return n;
}

static void parse_command(struct chan *c, const char *command) {
  char *copy = strdup(command), *save = NULL;
  int cap = 4;
  c->steps = calloc(cap, sizeof *c->steps);
  c->nsteps = 0;
  for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
    char **w;
    int n = split_words(part, &w);
    if (n == 0) { free(w); continue; }
    if (c->nsteps == cap) c->steps = realloc(c->steps, (cap *= 2) * sizeof *c->steps);
    struct step *s = &c->steps[c->nsteps++];
    memset(s, 0, sizeof *s);
    if (!strcmp(w[0], "echo")) {
      size_t total = 2;
      for (int i = 1; i < n; i++) total += strlen(w[i]) + 1;
      s->kind = S_ECHO;
      s->text = calloc(1, total);
      for (int i = 1; i < n; i++) { if (i > 1) strcat(s->text, " "); strcat(s->text, w[i]); }
      strcat(s->text, "\n");
    } else if (!strcmp(w[0], "cat")) s->kind = S_CAT;
    else if (!strcmp(w[0], "discard")) s->kind = S_DISCARD;
    else if (!strcmp(w[0], "true")) s->kind = S_TRUE;
    else if (!strcmp(w[0], "false")) { s->kind = S_EXIT; s->n = 1; }
    else if (!strcmp(w[0], "yes")) { s->kind = S_YES; s->n = n > 1 ? atol(w[1]) : 0; if (s->n < 0) s->n = 0; if (s->n > MAX_YES) s->n = MAX_YES; }
    else if (!strcmp(w[0], "exit")) { s->kind = S_EXIT; s->n = n > 1 ? (atol(w[1]) & 0xff) : 0; }
    else { s->kind = S_UNKNOWN; s->text = strdup(w[0]); }
    for (int i = 0; i < n; i++) free(w[i]);
    free(w);
  }
  free(copy);
}

static int write_all(ssh_channel ch, const char *p, size_t n, int is_stderr) {
  while (n > 0) {
    uint32_t piece = n > 32768 ? 32768 : (uint32_t)n;
    int w = is_stderr ? ssh_channel_write_stderr(ch, p, piece) : ssh_channel_write(ch, p, piece);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void finish(struct chan *c, int status) {
  c->finished = 1;
  /* RFC 4254 §6.10: exit-status, then EOF and CLOSE */
  ssh_channel_request_send_exit_status(c->ch, status);
  ssh_channel_send_eof(c->ch);
  ssh_channel_close(c->ch);
}

/* Runs steps until one needs input that has not arrived; called from the main loop, never from a callback. */
static void advance(struct chan *c) {
  static char yes[32768];
  if (!yes[0]) for (size_t i = 0; i < sizeof yes; i += 2) { yes[i] = 'y'; yes[i + 1] = '\n'; }
  while (c->started && !c->finished && !c->closed) {
    if (c->at >= c->nsteps) return finish(c, 0);
    struct step *s = &c->steps[c->at];
    switch (s->kind) {
    case S_ECHO:
      if (write_all(c->ch, s->text, strlen(s->text), 0) < 0) return finish(c, 1);
      break;
    case S_TRUE:
      break;
    case S_YES:
      for (long left = s->n; left > 0;) {
        size_t piece = left > (long)sizeof yes ? sizeof yes : (size_t)left;
        if (write_all(c->ch, yes, piece, 0) < 0) return finish(c, 1);
        left -= (long)piece;
      }
      break;
    case S_CAT:
    case S_DISCARD:
      if (c->inlen) {
        /* take the buffer first: a blocking write runs libssh's loop, whose data callback appends (and reallocs) */
        char *in = c->in;
        size_t len = c->inlen;
        c->in = NULL;
        c->inlen = c->incap = 0;
        int failed = s->kind == S_CAT && write_all(c->ch, in, len, 0) < 0;
        free(in);
        if (failed) return finish(c, 1);
        c->discarded += (long)len;
        continue; /* more may have arrived meanwhile */
      }
      if (!c->eof) return; /* wait for more input or EOF */
      if (s->kind == S_DISCARD) {
        char line[32];
        snprintf(line, sizeof line, "%ld\n", c->discarded);
        write_all(c->ch, line, strlen(line), 0);
      }
      break;
    case S_EXIT:
      return finish(c, (int)s->n);
    case S_UNKNOWN: {
      char line[512];
      snprintf(line, sizeof line, "%.400s: command not found\n", s->text);
      write_all(c->ch, line, strlen(line), 1);
      return finish(c, 127);
    }
    }
    c->at++;
  }
}

/* ------------------------------------------------------------------ server */

struct conn {
  ssh_session session;
  struct chan chans[MAX_CHANNELS];
  int nchans;
  const char *user, *password;
  ssh_key *authorized;
  int nauthorized;
  int authenticated;
  struct ssh_channel_callbacks_struct chan_cb;
};

static struct chan *chan_of(struct conn *k, ssh_channel ch) {
  for (int i = 0; i < k->nchans; i++) if (k->chans[i].ch == ch) return &k->chans[i];
  return NULL;
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud) {
  (void)s; (void)is_stderr;
  struct chan *c = chan_of(ud, ch);
  if (!c) return (int)len;
  if (c->inlen + len > MAX_INPUT) return 0; /* leave it unconsumed: the window closes */
  if (c->inlen + len > c->incap) {
    c->incap = (c->inlen + len) * 2;
    c->in = realloc(c->in, c->incap);
  }
  memcpy(c->in + c->inlen, data, len);
  c->inlen += len;
  return (int)len;
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud) {
  (void)s;
  struct chan *c = chan_of(ud, ch);
  if (c) c->eof = 1;
}

static void on_close(ssh_session s, ssh_channel ch, void *ud) {
  (void)s;
  struct chan *c = chan_of(ud, ch);
  if (c) c->closed = 1;
}

static int start(struct conn *k, ssh_channel ch, const char *command) {
  struct chan *c = chan_of(k, ch);
  /* RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel */
  if (!c || c->started) return 1;
  parse_command(c, command);
  c->started = 1;
  return 0;
}

static int on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud) { (void)s; return start(ud, ch, command); }
static int on_shell(ssh_session s, ssh_channel ch, void *ud) { (void)s; return start(ud, ch, "cat"); }
static int on_pty(ssh_session s, ssh_channel ch, const char *t, int w, int h, int pw, int ph, void *ud) {
  (void)s; (void)ch; (void)t; (void)w; (void)h; (void)pw; (void)ph; (void)ud;
  return 0;
}
static int on_env(ssh_session s, ssh_channel ch, const char *n, const char *v, void *ud) {
  (void)s; (void)ch; (void)n; (void)v; (void)ud;
  return 0;
}

static ssh_channel on_open_session(ssh_session s, void *ud) {
  struct conn *k = ud;
  if (k->nchans >= MAX_CHANNELS) return NULL;
  ssh_channel ch = ssh_channel_new(s);
  if (!ch) return NULL;
  struct chan *c = &k->chans[k->nchans++];
  memset(c, 0, sizeof *c);
  c->ch = ch;
  ssh_set_channel_callbacks(ch, &k->chan_cb);
  return ch;
}

static int on_auth_password(ssh_session s, const char *user, const char *password, void *ud) {
  (void)s;
  struct conn *k = ud;
  int ok = k->password && !strcmp(user, k->user) && !strcmp(password, k->password);
  logf_("password auth for \"%s\": %s", user, ok ? "accepted" : "denied");
  if (ok) k->authenticated = 1;
  return ok ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

static int on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key, char state, void *ud) {
  (void)s;
  struct conn *k = ud;
  int known = 0;
  if (!strcmp(user, k->user))
    for (int i = 0; i < k->nauthorized && !known; i++) known = ssh_key_cmp(key, k->authorized[i], SSH_KEY_CMP_PUBLIC) == 0;
  if (!known) { logf_("publickey auth for \"%s\": key not authorized", user); return SSH_AUTH_DENIED; }
  if (state == SSH_PUBLICKEY_STATE_NONE) return SSH_AUTH_SUCCESS; /* the query: the key is acceptable (PK_OK) */
  if (state != SSH_PUBLICKEY_STATE_VALID) { logf_("publickey auth for \"%s\": bad signature", user); return SSH_AUTH_DENIED; }
  logf_("publickey auth for \"%s\": accepted", user);
  k->authenticated = 1;
  return SSH_AUTH_SUCCESS;
}

static int load_authorized(const char *path, ssh_key **out) {
  FILE *f = path ? fopen(path, "r") : NULL;
  int n = 0;
  *out = calloc(64, sizeof **out);
  if (!f) return 0;
  char line[16384];
  while (n < 64 && fgets(line, sizeof line, f)) {
    char *type = strtok(line, " \t\r\n"), *b64 = type ? strtok(NULL, " \t\r\n") : NULL;
    if (!b64) continue;
    ssh_key key = NULL;
    if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &key) == SSH_OK) (*out)[n++] = key;
  }
  fclose(f);
  return n;
}

static void handle_connection(ssh_session session) {
  struct conn k;
  memset(&k, 0, sizeof k);
  k.session = session;
  k.user = env("SSH_HARNESS_USER") ? env("SSH_HARNESS_USER") : "sshharness";
  const char *methods = env("SSH_HARNESS_METHODS") ? env("SSH_HARNESS_METHODS") : "password,publickey";
  k.password = strstr(methods, "password") ? env("SSH_HARNESS_PASSWORD") : NULL;
  k.nauthorized = strstr(methods, "publickey") ? load_authorized(env("SSH_HARNESS_AUTHORIZED_KEYS"), &k.authorized) : 0;
  if (!k.authorized) k.authorized = calloc(1, sizeof *k.authorized);

  struct ssh_server_callbacks_struct cb;
  memset(&cb, 0, sizeof cb);
  cb.userdata = &k;
  cb.auth_password_function = on_auth_password;
  cb.auth_pubkey_function = on_auth_pubkey;
  cb.channel_open_request_session_function = on_open_session;
  ssh_callbacks_init(&cb);
  memset(&k.chan_cb, 0, sizeof k.chan_cb);
  k.chan_cb.userdata = &k;
  k.chan_cb.channel_data_function = on_data;
  k.chan_cb.channel_eof_function = on_eof;
  k.chan_cb.channel_close_function = on_close;
  k.chan_cb.channel_exec_request_function = on_exec;
  k.chan_cb.channel_shell_request_function = on_shell;
  k.chan_cb.channel_pty_request_function = on_pty;
  k.chan_cb.channel_env_request_function = on_env;
  ssh_callbacks_init(&k.chan_cb);

  ssh_set_server_callbacks(session, &cb);
  ssh_set_auth_methods(session, (k.password ? SSH_AUTH_METHOD_PASSWORD : 0) | (strstr(methods, "publickey") ? SSH_AUTH_METHOD_PUBLICKEY : 0));
  if (env("SSH_HARNESS_COMPRESSION")) {
    ssh_options_set(session, SSH_OPTIONS_COMPRESSION_C_S, env("SSH_HARNESS_COMPRESSION"));
    ssh_options_set(session, SSH_OPTIONS_COMPRESSION_S_C, env("SSH_HARNESS_COMPRESSION"));
  }
  if (ssh_handle_key_exchange(session) != SSH_OK) {
    logf_("key exchange failed: %s", ssh_get_error(session));
    return;
  }
  ssh_event ev = ssh_event_new();
  ssh_event_add_session(ev, session);
  for (;;) {
    if (ssh_event_dopoll(ev, 100) == SSH_ERROR) {
      logf_("connection ended: %s", ssh_get_error(session));
      break;
    }
    for (int i = 0; i < k.nchans; i++) {
      struct chan *c = &k.chans[i];
      /* RFC 4254 §5.3: a CLOSE is answered with CLOSE; libssh leaves sending it to the application */
      if (c->closed && !c->finished) {
        c->finished = 1;
        ssh_channel_close(c->ch);
      }
      advance(c);
    }
    if (!ssh_is_connected(session)) break;
    /* libssh marks a fatal protocol error (e.g. a packet its filter rejects) on the session but leaves the
       connection to the application: end it, as a libssh server does */
    if (ssh_get_error_code(session) == SSH_FATAL) {
      logf_("session error: %s", ssh_get_error(session));
      break;
    }
  }
  ssh_event_free(ev);
}

static int serve(void) {
  const char *host = env("SSH_HARNESS_HOST") ? env("SSH_HARNESS_HOST") : "127.0.0.1";
  const char *port = env("SSH_HARNESS_PORT") ? env("SSH_HARNESS_PORT") : "0";
  ssh_bind bind = ssh_bind_new();
  bool no = false;
  int verbosity = env("SSH_HARNESS_LOG_LEVEL") ? atoi(env("SSH_HARNESS_LOG_LEVEL")) : SSH_LOG_WARNING;
  /* our keys and algorithm lists only: no /etc/ssh/libssh_server_config */
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDADDR, host);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDPORT_STR, port);
  ssh_bind_options_set(bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &verbosity);
  char *keys = strdup(env("SSH_HARNESS_HOSTKEYS") ? env("SSH_HARNESS_HOSTKEYS") : ""), *save = NULL;
  for (char *p = strtok_r(keys, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
    if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY, p) < 0) {
      logf_("host key %s: %s", p, ssh_get_error(bind));
      return 3;
    }
  }
  struct { const char *var; enum ssh_bind_options_e opt; } lists[] = {
    {"SSH_HARNESS_KEX", SSH_BIND_OPTIONS_KEY_EXCHANGE},
    {"SSH_HARNESS_HOSTKEY_ALGORITHMS", SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS},
    {"SSH_HARNESS_CIPHERS", SSH_BIND_OPTIONS_CIPHERS_C_S},
    {"SSH_HARNESS_CIPHERS", SSH_BIND_OPTIONS_CIPHERS_S_C},
    {"SSH_HARNESS_MACS", SSH_BIND_OPTIONS_HMAC_C_S},
    {"SSH_HARNESS_MACS", SSH_BIND_OPTIONS_HMAC_S_C},
  };
  for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
    if (env(lists[i].var) && ssh_bind_options_set(bind, lists[i].opt, env(lists[i].var)) < 0) {
      logf_("%s=%s refused: %s", lists[i].var, env(lists[i].var), ssh_get_error(bind));
      return 3;
    }
  }
  if (ssh_bind_listen(bind) < 0) {
    logf_("listen on %s:%s: %s", host, port, ssh_get_error(bind));
    return 3;
  }
  struct sockaddr_in addr;
  socklen_t alen = sizeof addr;
  getsockname(ssh_bind_get_fd(bind), (struct sockaddr *)&addr, &alen);
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  fprintf(stderr, "libssh %s listening on %s:%d\n", ssh_version(0), host, ntohs(addr.sin_port));
  fflush(stderr);
  for (;;) {
    ssh_session session = ssh_new();
    if (ssh_bind_accept(bind, session) != SSH_OK) {
      logf_("accept: %s", ssh_get_error(bind));
      ssh_free(session);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      ssh_bind_free(bind);
      handle_connection(session);
      ssh_disconnect(session);
      ssh_free(session);
      _exit(0);
    }
    if (pid < 0) logf_("fork: %s", strerror(errno));
    ssh_free(session); /* the child owns the connection */
  }
}

/* ------------------------------------------------------------------ client */

static int client(void) {
  ssh_session s = ssh_new();
  bool no = false;
  int port = env("SSH_HARNESS_PORT") ? atoi(env("SSH_HARNESS_PORT")) : 22;
  long timeout = 15;
  int verbosity = env("SSH_HARNESS_LOG_LEVEL") ? atoi(env("SSH_HARNESS_LOG_LEVEL")) : SSH_LOG_WARNING;
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no); /* no ~/.ssh/config */
  ssh_options_set(s, SSH_OPTIONS_HOST, env("SSH_HARNESS_HOST") ? env("SSH_HARNESS_HOST") : "127.0.0.1");
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, env("SSH_HARNESS_USER") ? env("SSH_HARNESS_USER") : "sshharness");
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
  struct { const char *var; enum ssh_options_e opt; } lists[] = {
    {"SSH_HARNESS_KEX", SSH_OPTIONS_KEY_EXCHANGE},
    {"SSH_HARNESS_HOSTKEY_ALGORITHMS", SSH_OPTIONS_HOSTKEYS},
    {"SSH_HARNESS_CIPHERS", SSH_OPTIONS_CIPHERS_C_S},
    {"SSH_HARNESS_CIPHERS", SSH_OPTIONS_CIPHERS_S_C},
    {"SSH_HARNESS_MACS", SSH_OPTIONS_HMAC_C_S},
    {"SSH_HARNESS_MACS", SSH_OPTIONS_HMAC_S_C},
    {"SSH_HARNESS_COMPRESSION", SSH_OPTIONS_COMPRESSION_C_S},
    {"SSH_HARNESS_COMPRESSION", SSH_OPTIONS_COMPRESSION_S_C},
  };
  for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
    if (env(lists[i].var) && ssh_options_set(s, lists[i].opt, env(lists[i].var)) < 0) {
      fprintf(stderr, "libssh-client: %s=%s refused: %s\n", lists[i].var, env(lists[i].var), ssh_get_error(s));
      return 255;
    }
  }
  if (ssh_connect(s) != SSH_OK) {
    fprintf(stderr, "libssh-client: connect: %s\n", ssh_get_error(s));
    return 255;
  }
  const char *fps = env("SSH_HARNESS_FINGERPRINTS");
  if (fps) {
    ssh_key hk = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    char *fp = NULL;
    if (ssh_get_server_publickey(s, &hk) == SSH_OK && ssh_get_publickey_hash(hk, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
      fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
    int ok = 0;
    if (fp) {
      char *list = strdup(fps), *save = NULL;
      for (char *p = strtok_r(list, ",", &save); p && !ok; p = strtok_r(NULL, ",", &save)) ok = !strcmp(p, fp);
      free(list);
    }
    if (!ok) {
      fprintf(stderr, "libssh-client: host key %s is not one of %s\n", fp ? fp : "(unreadable)", fps);
      return 255;
    }
    ssh_string_free_char(fp);
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(hk);
  }
  int rc = SSH_AUTH_DENIED;
  if (env("SSH_HARNESS_IDENTITY")) {
    ssh_key key = NULL;
    if (ssh_pki_import_privkey_file(env("SSH_HARNESS_IDENTITY"), NULL, NULL, NULL, &key) != SSH_OK) {
      fprintf(stderr, "libssh-client: cannot read %s\n", env("SSH_HARNESS_IDENTITY"));
      return 255;
    }
    rc = ssh_userauth_publickey(s, NULL, key);
    ssh_key_free(key);
  }
  if (rc != SSH_AUTH_SUCCESS && getenv("SSH_HARNESS_PASSWORD")) rc = ssh_userauth_password(s, NULL, getenv("SSH_HARNESS_PASSWORD"));
  if (rc != SSH_AUTH_SUCCESS) {
    fprintf(stderr, "libssh-client: authentication failed: %s\n", ssh_get_error(s));
    return 255;
  }
  ssh_channel ch = ssh_channel_new(s);
  if (!ch || ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, env("SSH_HARNESS_COMMAND") ? env("SSH_HARNESS_COMMAND") : "true") != SSH_OK) {
    fprintf(stderr, "libssh-client: exec: %s\n", ssh_get_error(s));
    return 255;
  }
  /* our input first (the harness gives a small, finite stdin), then EOF; output is read as it comes */
  char buf[32768];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) break;
    if (write_all(ch, buf, (size_t)n, 0) < 0) break;
  }
  ssh_channel_send_eof(ch);
  for (int is_err = 0;;) {
    int n = ssh_channel_read_timeout(ch, buf, sizeof buf, is_err, 100);
    if (n > 0) {
      if (write(is_err ? 2 : 1, buf, (size_t)n) < 0) break;
      continue;
    }
    if (n == SSH_ERROR) break;
    if (!is_err) { is_err = 1; continue; }
    is_err = 0;
    if (ssh_channel_is_eof(ch) && ssh_channel_poll(ch, 0) <= 0 && ssh_channel_poll(ch, 1) <= 0) break;
  }
  int status = ssh_channel_get_exit_status(ch);
  ssh_channel_close(ch);
  ssh_channel_free(ch);
  ssh_disconnect(s);
  ssh_free(s);
  return status < 0 ? 255 : status;
}

static void usage(void) {
  fprintf(stderr,
          "usage: peer server|client|version\n"
          "server: SSH_HARNESS_HOST, _PORT (0 = any), _HOSTKEYS (paths, ':'-separated), _USER, _PASSWORD,\n"
          "        _AUTHORIZED_KEYS (file), _METHODS (password,publickey), _KEX, _HOSTKEY_ALGORITHMS, _CIPHERS,\n"
          "        _MACS, _COMPRESSION (comma lists), _LOG_LEVEL\n"
          "client: SSH_HARNESS_HOST, _PORT, _USER, _PASSWORD, _IDENTITY, _COMMAND, _FINGERPRINTS (SHA256:..., comma list),\n"
          "        and the same algorithm lists\n");
}

int main(int argc, char **argv) {
  if (argc < 2) { usage(); return 2; }
  if (!strcmp(argv[1], "version")) { printf("%s\n", ssh_version(0)); return 0; }
  ssh_init();
  int rc = !strcmp(argv[1], "server") ? serve() : !strcmp(argv[1], "client") ? client() : (usage(), 2);
  ssh_finalize();
  return rc;
}
